"""A tiny outside platform for the queue's tests, served over real HTTP on loopback, and the
provider that talks to it. The platform records every post it accepts (what the "exactly
once" checks count) and can be told to accept a post and then not answer in time."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI, Request

from allin.posts.ports import AccountRef
from allin.social.providers.base import (
    AccountCredentials,
    AuthorizationStart,  # noqa: F401  # part of the interface's vocabulary
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


@dataclass
class PlatformState:
    posts: list[dict[str, Any]] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    hang_after_accept: float = 0.0  # seconds to stall after recording a post
    fail_with: tuple[int, dict[str, Any]] | None = None  # status and body, before recording

    def count_by_key(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for post in self.posts:
            counts[post["key"]] = counts.get(post["key"], 0) + 1
        return counts


def platform_app(state: PlatformState) -> FastAPI:
    app = FastAPI()

    @app.post("/posts")
    async def create(request: Request) -> Any:
        body = await request.json()
        if state.fail_with is not None:
            from fastapi.responses import JSONResponse

            status, payload = state.fail_with
            headers = {"Retry-After": "120"} if status == 429 else None
            return JSONResponse(payload, status_code=status, headers=headers)
        post = {
            "id": str(next(state.ids)),
            "text": body["text"],
            "key": body["key"],
            "account": body["account"],
            "created_at": datetime.now(UTC).isoformat(),
        }
        state.posts.append(post)
        if state.hang_after_accept:
            await asyncio.sleep(state.hang_after_accept)
        return {"id": post["id"], "url": f"https://platform.test/p/{post['id']}"}

    @app.get("/posts")
    async def search(account: str, since: str) -> Any:
        cutoff = datetime.fromisoformat(since)
        return [
            p
            for p in state.posts
            if p["account"] == account and datetime.fromisoformat(p["created_at"]) >= cutoff
        ]

    @app.get("/counts")
    async def counts() -> dict[str, int]:
        return state.count_by_key()

    return app


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
    """The accounts port over one provider: every account belongs to `owner_id`."""

    def __init__(self, provider: LoopbackProvider, owner_id: uuid.UUID) -> None:
        self.provider = provider
        self.owner_id = owner_id
        self.reconnect: list[uuid.UUID] = []

    async def account(self, account_id: uuid.UUID) -> AccountRef | None:
        return AccountRef(account_id, self.owner_id, Platform.LINKEDIN, "test")

    async def credentials(self, account_id: uuid.UUID) -> tuple[SocialProvider, AccountCredentials]:
        return self.provider, AccountCredentials(account_id.hex, "token")

    async def needs_reconnect(self, account_id: uuid.UUID, error: SocialProviderError) -> None:
        self.reconnect.append(account_id)

    def content_rules(self, platform: Platform) -> ContentRules | None:
        return self.provider.rules if platform is Platform.LINKEDIN else None
