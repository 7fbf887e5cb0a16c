"""The provider for the tests' loopback platform (`tests.posts.platform`), and an accounts
port over it. Kept apart from the platform's server so a publishing process imports no web
framework it does not need."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx

from allin.core.config import Settings
from allin.posts.ports import AccountRef
from allin.social.providers.base import (
    AccountCredentials,
    ContentRules,
    ErrorKind,
    Identity,
    Platform,
    ProviderConfig,
    PublishRequest,
    PublishResult,
    PublishState,
    SocialProvider,
    SocialProviderError,
    TokenSet,
)
from allin.social.registry import ProviderRegistry
from allin.tiktok.provider import tiktok_provider


def composed_rules(platform: Platform, settings: Settings | None = None) -> ContentRules:
    """A platform's rules as the app's registry reports them (TikTok's registered as the app
    registers it)."""
    settings = settings or Settings(_env_file=None)  # type: ignore[call-arg]
    registry = ProviderRegistry.from_settings(
        settings, {Platform.TIKTOK: tiktok_provider(settings)}
    )
    return registry.rules(platform)


class LoopbackProvider(SocialProvider):
    platform = Platform.LINKEDIN
    rules = ContentRules(text_limit=3000)

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        super().__init__(ProviderConfig(None, None, "", base_url, base_url))
        self.http = httpx.AsyncClient(base_url=base_url, timeout=timeout)

    async def publish(self, account: AccountCredentials, post: PublishRequest) -> PublishResult:
        body = {"text": post.text, "key": post.idempotency_key, "account": account.platform_user_id}
        try:
            response = await self.http.post("/posts", json=body)
        except httpx.ConnectError as exc:  # nothing was sent
            raise self._error(ErrorKind.TRANSIENT, str(exc)) from exc
        except httpx.HTTPError as exc:  # sent; no answer
            raise self._error(ErrorKind.UNKNOWN_OUTCOME, repr(exc)) from exc
        if response.status_code == 401:
            raise self._error(ErrorKind.AUTH, response.json().get("message", ""))
        if response.status_code == 429:
            raise self._error(
                ErrorKind.RATE_LIMITED,
                "slow down",
                retry_after=float(response.headers["Retry-After"]),
            )
        if response.status_code == 422:
            raise self._error(ErrorKind.REJECTED, response.json().get("message", ""))
        if response.status_code >= 500:
            raise self._error(ErrorKind.UNKNOWN_OUTCOME, f"HTTP {response.status_code}")
        data = response.json()
        return PublishResult(PublishState.PUBLISHED, data["id"], data["url"])

    async def find_published(
        self, account: AccountCredentials, post: PublishRequest, since: datetime
    ) -> PublishResult | None:
        response = await self.http.get(
            "/posts", params={"account": account.platform_user_id, "since": since.isoformat()}
        )
        for item in response.json():
            if item["key"] == post.idempotency_key:
                return PublishResult(
                    PublishState.PUBLISHED, item["id"], f"https://platform.test/p/{item['id']}"
                )
        return None

    async def publish_status(self, account: AccountCredentials, tracking_id: str) -> PublishResult:
        raise NotImplementedError

    def _error(self, kind: ErrorKind, message: str, **kw: Any) -> SocialProviderError:
        return SocialProviderError(
            message, kind=kind, platform=self.platform, platform_message=message, **kw
        )

    def authorization_url(self, state: str, code_challenge: str | None = None) -> str:
        return ""

    async def exchange_code(self, code: str, code_verifier: str | None = None) -> TokenSet:
        raise NotImplementedError

    async def refresh(self, token: TokenSet) -> TokenSet:
        raise NotImplementedError

    async def revoke(self, token: TokenSet) -> None:
        return None

    async def identities(self, token: TokenSet) -> list[Identity]:
        return []

    async def aclose(self) -> None:
        await self.http.aclose()


class LoopbackAccounts:
    """The accounts port over one provider. Without `owner_id`, only accounts added with
    `add` exist; with it, every account id belongs to that owner (queue-level tests)."""

    def __init__(self, provider: LoopbackProvider, owner_id: uuid.UUID | None = None) -> None:
        self.provider = provider
        self.owner_id = owner_id
        self.known: dict[uuid.UUID, AccountRef] = {}
        self.reconnect: list[uuid.UUID] = []

    def add(self, owner_id: uuid.UUID, platform: Platform = Platform.LINKEDIN) -> uuid.UUID:
        account_id = uuid.uuid4()
        self.known[account_id] = AccountRef(account_id, owner_id, platform, "test")
        return account_id

    async def account(self, account_id: uuid.UUID) -> AccountRef | None:
        if account_id in self.known:
            return self.known[account_id]
        if self.owner_id is None:
            return None
        return AccountRef(account_id, self.owner_id, Platform.LINKEDIN, "test")

    async def credentials(self, account_id: uuid.UUID) -> tuple[SocialProvider, AccountCredentials]:
        return self.provider, AccountCredentials(account_id.hex, "token")

    async def needs_reconnect(self, account_id: uuid.UUID, error: SocialProviderError) -> None:
        self.reconnect.append(account_id)

    def content_rules(self, platform: Platform) -> ContentRules | None:
        return self.provider.rules if platform is Platform.LINKEDIN else composed_rules(platform)
