"""The posts domain's accounts port, answered by the social accounts service: the
composition layer's glue, so posts never reach into how accounts and tokens are kept."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from allin.auth.email import create_email_backend
from allin.core.config import Settings
from allin.core.crypto import cipher_from_settings
from allin.db.engine import create_engine, create_session_factory
from allin.posts.ports import AccountRef
from allin.social.errors import (
    AccountNotFoundError,
    PlatformUnavailableError,
    ReconnectRequiredError,
)
from allin.social.providers.base import (
    AccountCredentials,
    ContentRules,
    ErrorKind,
    Platform,
    SocialProvider,
    SocialProviderError,
)
from allin.social.registry import ProviderRegistry
from allin.social.service import SocialAccountsService


class SocialPublishingAccounts:
    """`PublishingAccounts` over the social accounts service (looked up when first needed,
    since the service starts with its domain)."""

    def __init__(self, service: Callable[[], SocialAccountsService]) -> None:
        self._service = service

    async def account(self, account_id: uuid.UUID) -> AccountRef | None:
        try:
            row = await self._service().get_account(account_id)
        except AccountNotFoundError:
            return None
        name = row.display_name or row.username
        return AccountRef(row.id, row.owner_id, Platform(row.platform), name)

    async def credentials(self, account_id: uuid.UUID) -> tuple[SocialProvider, AccountCredentials]:
        service = self._service()
        try:
            credentials, provider = await service.credentials(account_id)
        except ReconnectRequiredError as exc:
            row = await service.get_account(account_id)
            raise SocialProviderError(
                exc.message, kind=ErrorKind.AUTH, platform=Platform(row.platform)
            ) from exc
        return provider, credentials

    async def needs_reconnect(self, account_id: uuid.UUID, error: SocialProviderError) -> None:
        await self._service().mark_needs_reconnect(account_id, error)

    def content_rules(self, platform: Platform) -> ContentRules | None:
        """The registered provider's rules, credentials or not; None without a provider."""
        try:
            return self._service().registry.rules(platform)
        except PlatformUnavailableError:
            return None


def standalone_accounts(
    settings: Settings, providers: Callable[[Settings], ProviderRegistry]
) -> SocialPublishingAccounts:
    """For `allin worker`: its own accounts service on the configured database."""
    engine = create_engine(settings.effective_database_url)
    service = SocialAccountsService(
        settings,
        create_session_factory(engine),
        providers(settings),
        cipher_from_settings(settings),
        create_email_backend(settings),
    )
    return SocialPublishingAccounts(lambda: service)
