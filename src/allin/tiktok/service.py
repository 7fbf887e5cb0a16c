"""The TikTok integration as one service, so HTTP routes (phase 2) are one call each.

Storage is injected: OAuth states, tokens (sealed), the publish journal and webhook idempotency
keys each sit behind a small Protocol with an in-memory implementation here; phase 2 plugs in
database (or Redis) versions keyed by the logged-in user and the connected account.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from allin.core.clock import utcnow
from allin.core.config import Settings
from allin.core.crypto import TokenCipher, cipher_from_settings
from allin.core.logging import Category, get_logger
from allin.tiktok import analytics
from allin.tiktok.client import TikTokClient, TikTokConfig
from allin.tiktok.errors import TikTokError
from allin.tiktok.models import (
    USER_BASIC_FIELDS,
    PublishStatus,
    TokenSet,
    UserInfo,
    VideoPage,
    VideoPostInfo,
)
from allin.tiktok.oauth import parse_callback
from allin.tiktok.publish import (
    InMemoryPublishJournal,
    PollPolicy,
    Publisher,
    PublishJournal,
    PublishRecord,
)
from allin.tiktok.tokens import InMemoryTokenStore, TokenManager, TokenStore
from allin.tiktok.upload import ProgressCallback
from allin.tiktok.webhooks import InMemoryIdempotency, WebhookEvent, verify_and_parse

log = get_logger(Category.TIKTOK)


class StateStore(Protocol):
    """One-time OAuth states bound to the user who started the flow."""

    async def put(self, state: str, user_id: str, expires_at: datetime) -> None: ...

    async def pop(self, state: str) -> str | None: ...


class IdempotencyStore(Protocol):
    def first_time(self, key: str) -> bool: ...


class InMemoryStateStore:
    def __init__(self) -> None:
        self._states: dict[str, tuple[str, datetime]] = {}

    async def put(self, state: str, user_id: str, expires_at: datetime) -> None:
        now = utcnow()
        self._states = {k: v for k, v in self._states.items() if v[1] > now}
        self._states[state] = (user_id, expires_at)

    async def pop(self, state: str) -> str | None:
        entry = self._states.pop(state, None)
        if entry is None or entry[1] <= utcnow():
            return None
        return entry[0]


@dataclass(frozen=True, slots=True)
class Connection:
    user_id: str
    account_id: str
    open_id: str | None
    scopes: tuple[str, ...]
    profile: UserInfo


@dataclass(frozen=True, slots=True)
class WebhookOutcome:
    event: WebhookEvent
    duplicate: bool
    account_id: str | None = None
    record: PublishRecord | None = None


class TikTokService:
    def __init__(
        self,
        client: TikTokClient,
        *,
        cipher: TokenCipher,
        token_store: TokenStore | None = None,
        journal: PublishJournal | None = None,
        states: StateStore | None = None,
        idempotency: IdempotencyStore | None = None,
        refresh_margin: float = 600.0,
        state_ttl: float = 600.0,
        webhook_tolerance: float = 300.0,
        analytics_ttl: float = 300.0,
        poll: PollPolicy | None = None,
        chunk_size: int = 10_000_000,
    ) -> None:
        self.client = client
        self.tokens = TokenManager(
            token_store or InMemoryTokenStore(),
            cipher,
            client.refresh,
            refresh_margin=refresh_margin,
        )
        self.publisher = Publisher(
            client, journal or InMemoryPublishJournal(), poll=poll, chunk_size=chunk_size
        )
        self.states: StateStore = states or InMemoryStateStore()
        self.idempotency: IdempotencyStore = idempotency or InMemoryIdempotency()
        self.state_ttl = state_ttl
        self.webhook_tolerance = webhook_tolerance
        self.analytics_ttl = analytics_ttl
        self._analytics: dict[str, analytics.AnalyticsSnapshot] = {}

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        token_store: TokenStore | None = None,
        journal: PublishJournal | None = None,
        states: StateStore | None = None,
        idempotency: IdempotencyStore | None = None,
    ) -> TikTokService:
        return cls(
            TikTokClient(TikTokConfig.from_settings(settings)),
            cipher=cipher_from_settings(settings),
            refresh_margin=settings.tiktok_token_refresh_margin,
            state_ttl=settings.tiktok_state_ttl,
            webhook_tolerance=settings.tiktok_webhook_tolerance,
            poll=PollPolicy(
                initial=settings.tiktok_status_poll_initial,
                maximum=settings.tiktok_status_poll_max,
                timeout=settings.tiktok_status_poll_timeout,
            ),
            chunk_size=settings.tiktok_chunk_size,
            token_store=token_store,
            journal=journal,
            states=states,
            idempotency=idempotency,
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    # --- connect / callback / disconnect ---

    async def start_connect(self, user_id: str, scopes: list[str] | None = None) -> str:
        """GET /connect: the URL to send the user to; the state is bound to them."""
        url, state = self.client.authorization_url(scopes)
        await self.states.put(state, user_id, utcnow() + timedelta(seconds=self.state_ttl))
        return url

    async def finish_connect(self, user_id: str, query: Mapping[str, str]) -> Connection:
        """GET /callback: state must be this user's; trade the code, keep tokens, read profile."""
        state = query.get("state", "")
        owner = await self.states.pop(state)
        if owner is None or owner != user_id:
            raise TikTokError("state_mismatch", "unknown, expired or foreign OAuth state")
        callback = parse_callback(query, expected_state=state)
        grant: TokenSet = await self.client.exchange_code(callback.code, state=state)
        account_id = grant.open_id or uuid.uuid4().hex
        await self.tokens.store_tokens(account_id, grant)
        profile = await self.client.user_info(grant.access_token, USER_BASIC_FIELDS)
        log.info("tiktok account connected", user_id=user_id, open_id=grant.open_id)
        return Connection(user_id, account_id, grant.open_id, tuple(grant.scope), profile)

    async def disconnect(self, account_id: str) -> bool:
        """DELETE /{account}: revoke at TikTok (best effort) and forget the tokens."""
        revoked = False
        try:
            token = await self.tokens.get_valid_token(account_id)
            revoked = await self.client.revoke(token)
        except TikTokError as error:
            log.info("tiktok disconnect without revoke", code=error.code)
        await self.tokens.clear_token(account_id)
        self._analytics.pop(account_id, None)
        return revoked

    # --- reads ---

    async def me(self, account_id: str, fields: list[str] | None = None) -> UserInfo:
        wanted = fields or list(USER_BASIC_FIELDS)
        return await self.tokens.call_with_token(
            account_id, lambda token: self.client.user_info(token, wanted)
        )

    async def videos(self, account_id: str, cursor: int | None = None) -> VideoPage:
        return await self.tokens.call_with_token(
            account_id, lambda token: self.client.list_videos(token, cursor=cursor)
        )

    async def analytics(
        self, account_id: str, *, fresh: bool = False
    ) -> analytics.AnalyticsSnapshot:
        """Cached for `analytics_ttl` seconds to stay well inside the rate limits."""
        cached = self._analytics.get(account_id)
        if (
            not fresh
            and cached
            and utcnow() - cached.taken_at < timedelta(seconds=self.analytics_ttl)
        ):
            return cached
        info = await self.tokens.token_info(account_id)
        with_stats = info is not None and "user.info.stats" in info.scopes
        snapshot = await self.tokens.call_with_token(
            account_id,
            lambda token: analytics.collect(self.client, token, with_user_stats=with_stats),
        )
        self._analytics[account_id] = snapshot
        return snapshot

    # --- publishing ---

    async def publish_file(
        self,
        account_id: str,
        path: Path,
        post_info: VideoPostInfo | None,
        *,
        wait: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> PublishRecord:
        """POST /publish (multipart file): direct post, or inbox draft when post_info is None."""
        token = await self.tokens.get_valid_token(account_id)
        return await self.publisher.publish_file(
            token, path, post_info, account_id=account_id, wait=wait, on_progress=on_progress
        )

    async def publish_url(
        self, account_id: str, url: str, post_info: VideoPostInfo | None, *, wait: bool = False
    ) -> PublishRecord:
        """POST /publish (URL): TikTok pulls the video from a verified domain."""
        token = await self.tokens.get_valid_token(account_id)
        return await self.publisher.publish_url(
            token, url, post_info, account_id=account_id, wait=wait
        )

    async def publish_status(
        self, account_id: str, record_id: str
    ) -> tuple[PublishRecord, PublishStatus | None]:
        """GET /publish/{id}: our journal entry plus TikTok's live status (ownership checked)."""
        record = await self.publisher.journal.get(record_id)
        if record is None or record.account_id != account_id:
            raise TikTokError("invalid_publish_id", f"no publish {record_id} for this account")
        if record.publish_id is None or record.finished:
            return record, None
        publish_id = record.publish_id
        status = await self.tokens.call_with_token(
            account_id, lambda token: self.client.fetch_status(token, publish_id)
        )
        return record, status

    async def reconcile_unfinished(self, account_id: str) -> list[PublishRecord]:
        """After a restart: finish every journaled publish of this account by its status."""
        token = await self.tokens.get_valid_token(account_id)
        done = []
        for record in await self.publisher.journal.unfinished():
            if record.account_id == account_id:
                done.append(await self.publisher.reconcile(token, record.id))
        return done

    # --- webhooks ---

    async def handle_webhook(self, signature: str | None, body: bytes) -> WebhookOutcome:
        """POST /webhook: verify, drop duplicates, update the publish or disconnect."""
        config = self.client.config
        event = verify_and_parse(
            config.client_secret,
            signature,
            body,
            client_key=config.client_key,
            tolerance=self.webhook_tolerance,
        )
        if not self.idempotency.first_time(event.idempotency_key):
            return WebhookOutcome(event, duplicate=True)
        if event.is_authorization_removed and event.user_openid:
            account_id = await self.tokens.store.account_for_open_id(event.user_openid)
            if account_id is not None:
                await self.tokens.clear_token(account_id)
                self._analytics.pop(account_id, None)
                log.info("tiktok authorization removed", account_id=account_id)
            return WebhookOutcome(event, duplicate=False, account_id=account_id)
        record = None
        if event.is_publish_event and event.publish_id:
            record = await self.publisher.apply_event(event.publish_id, event.event, event.content)
        return WebhookOutcome(event, duplicate=False, record=record)
