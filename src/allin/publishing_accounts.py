"""The composition layer's bridge from the posts domain's accounts port to the social accounts
service, so neither domain imports the other: posts asks for an account, its credentials and
rules; the social service answers from its stored, encrypted accounts."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from allin.core.domain import AppState, Domain
from allin.posts.ports import AccountRef, PublishingAccounts
from allin.social.errors import AccountNotFoundError
from allin.social.providers.base import (
    AccountCredentials,
    ContentRules,
    Platform,
    SocialProvider,
    SocialProviderError,
)
from allin.social.service import SocialAccountsService


class SocialPublishingAccounts:
    def __init__(self, service: SocialAccountsService) -> None:
        self.service = service

    async def account(self, account_id: uuid.UUID) -> AccountRef | None:
        try:
            row = await self.service.get_account(account_id)
        except AccountNotFoundError:
            return None
        name = row.username or row.display_name
        return AccountRef(row.id, row.owner_id, Platform(row.platform), name)

    async def credentials(self, account_id: uuid.UUID) -> tuple[SocialProvider, AccountCredentials]:
        credentials, provider = await self.service.credentials(account_id)
        return provider, credentials

    async def needs_reconnect(self, account_id: uuid.UUID, error: SocialProviderError) -> None:
        await self.service.mark_needs_reconnect(account_id, error)

    def content_rules(self, platform: Platform) -> ContentRules | None:
        registry = self.service.registry
        if not registry.configured(platform):
            return None
        return registry.get(platform).rules


def publishing_accounts_domain(state: AppState) -> Domain:
    """Between the social domain (which provides its service) and the posts domain."""

    @asynccontextmanager
    async def lifespan(state: AppState) -> AsyncIterator[None]:
        service = state.find(SocialAccountsService)
        # One provided already (a test's stand-in platform) is kept.
        ours = service is not None and state.find(PublishingAccounts) is None  # type: ignore[type-abstract]
        if ours and service is not None:
            state.provide(SocialPublishingAccounts(service), PublishingAccounts)
        try:
            yield
        finally:
            if ours:
                state.withdraw(PublishingAccounts)

    return Domain(name="publishing-accounts", lifespan=lifespan)
