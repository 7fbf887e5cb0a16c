"""The TikTok integration as one service, so HTTP routes are one call each.

Storage is injected: connected accounts, OAuth states, tokens (sealed), the publish journal,
webhook idempotency keys and daily analytics snapshots each sit behind a small Protocol with an
in-memory implementation here; `stores.py` has the database ones (`TikTokService.with_database`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import anyio

from allin.core.clock import utcnow
from allin.core.config import Settings
from allin.core.crypto import TokenCipher, cipher_from_settings
from allin.core.logging import Category, get_logger
from allin.tiktok import analytics, stores
from allin.tiktok.analytics import AnalyticsSnapshot, DailySnapshot
from allin.tiktok.client import MAX_VIDEO_LIST_COUNT, TikTokClient, TikTokConfig
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
    PublishState,
)
from allin.tiktok.stores import PendingState
from allin.tiktok.tokens import InMemoryTokenStore, TokenManager, TokenStore
from allin.tiktok.upload import ProgressCallback
from allin.tiktok.webhooks import InMemoryIdempotency, WebhookEvent, verify_and_parse

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = get_logger(Category.TIKTOK)


class StateStore(Protocol):
    """One-time OAuth states bound to the user who started the flow."""

    async def put(
        self, state: str, user_id: str, expires_at: datetime, binding: str | None = None
    ) -> None: ...

    async def peek(self, state: str) -> PendingState | None: ...

    async def pop(self, state: str) -> str | None: ...


class IdempotencyStore(Protocol):
    async def claim(self, key: str, event: str = "") -> bool:
        """True the first time a key is seen."""
        ...

    async def release(self, key: str) -> None: ...


class AccountRegistry(Protocol):
    """Who owns which TikTok account."""

    async def attach(
        self, user_id: str, open_id: str | None, scopes: tuple[str, ...], profile: UserInfo
    ) -> str:
        """The account id for this user's TikTok identity (created or re-activated)."""
        ...

    async def remove(self, account_id: str) -> None: ...


class SnapshotStore(Protocol):
    async def record(self, account_id: str, snapshot: AnalyticsSnapshot) -> None: ...

    async def history(self, account_id: str, days: int) -> list[DailySnapshot]: ...


class InMemoryAccounts:
    """Accounts named by their open_id (the CLI and tests)."""

    def __init__(self) -> None:
        self.owners: dict[str, str] = {}

    async def attach(
        self, user_id: str, open_id: str | None, scopes: tuple[str, ...], profile: UserInfo
    ) -> str:
        account_id = open_id or uuid.uuid4().hex
        self.owners[account_id] = user_id
        return account_id

    async def remove(self, account_id: str) -> None:
        self.owners.pop(account_id, None)


class InMemorySnapshots:
    def __init__(self) -> None:
        self.days: dict[str, dict[object, DailySnapshot]] = {}

    async def record(self, account_id: str, snapshot: AnalyticsSnapshot) -> None:
        daily = DailySnapshot.of(snapshot)
        self.days.setdefault(account_id, {})[daily.day] = daily

    async def history(self, account_id: str, days: int) -> list[DailySnapshot]:
        since = (utcnow() - timedelta(days=days - 1)).date()
        kept = [d for d in self.days.get(account_id, {}).values() if d.day >= since]
        return sorted(kept, key=lambda d: d.day)


class InMemoryStateStore:
    def __init__(self) -> None:
        self._states: dict[str, tuple[str, datetime, str | None]] = {}

    async def put(
        self, state: str, user_id: str, expires_at: datetime, binding: str | None = None
    ) -> None:
        now = utcnow()
        self._states = {k: v for k, v in self._states.items() if v[1] > now}
        self._states[state] = (user_id, expires_at, binding)

    async def peek(self, state: str) -> PendingState | None:
        entry = self._states.get(state)
        if entry is None or entry[1] <= utcnow():
            return None
        return PendingState(entry[0], entry[2])

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
        accounts: AccountRegistry | None = None,
        snapshots: SnapshotStore | None = None,
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
        self.accounts: AccountRegistry = accounts or InMemoryAccounts()
        self.snapshots: SnapshotStore = snapshots or InMemorySnapshots()
        self.state_ttl = state_ttl
        self.webhook_tolerance = webhook_tolerance
        self.analytics_ttl = analytics_ttl
        self._analytics: dict[str, AnalyticsSnapshot] = {}

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        token_store: TokenStore | None = None,
        journal: PublishJournal | None = None,
        states: StateStore | None = None,
        idempotency: IdempotencyStore | None = None,
        accounts: AccountRegistry | None = None,
        snapshots: SnapshotStore | None = None,
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
            accounts=accounts,
            snapshots=snapshots,
        )

    @classmethod
    def with_database(
        cls, settings: Settings, sessions: async_sessionmaker[AsyncSession]
    ) -> TikTokService:
        """Every store in the database: what the app and the CLI use."""
        return cls.from_settings(
            settings,
            token_store=stores.DbTokenStore(sessions),
            journal=stores.DbPublishJournal(sessions),
            states=stores.DbStateStore(sessions),
            idempotency=stores.DbIdempotency(sessions),
            accounts=stores.DbAccounts(sessions),
            snapshots=stores.DbSnapshots(sessions),
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    # --- connect / callback / disconnect ---

    async def start_connect(
        self, user_id: str, scopes: list[str] | None = None, binding: str | None = None
    ) -> str:
        """GET /connect: the URL to send the user to; the state is bound to them and, with
        `binding`, to their browser (`core.oauth_binding`)."""
        url, state = self.client.authorization_url(scopes)
        expires = utcnow() + timedelta(seconds=self.state_ttl)
        await self.states.put(state, user_id, expires, binding)
        return url

    async def pending(self, state: str) -> PendingState | None:
        return await self.states.peek(state)

    async def finish_connect(self, user_id: str, query: Mapping[str, str]) -> Connection:
        """GET /callback: state must be this user's; trade the code, keep tokens, read profile."""
        state = query.get("state", "")
        owner = await self.states.pop(state)
        if owner is None or owner != user_id:
            raise TikTokError("state_mismatch", "unknown, expired or foreign OAuth state")
        return await self._connect(owner, state, query)

    async def complete_callback(self, query: Mapping[str, str]) -> Connection:
        """GET /callback without a login (the browser comes back from TikTok): the one-time
        state says whose connection this is."""
        state = query.get("state", "")
        owner = await self.states.pop(state)
        if owner is None:
            raise TikTokError("state_mismatch", "unknown, expired or already used OAuth state")
        return await self._connect(owner, state, query)

    async def _connect(self, user_id: str, state: str, query: Mapping[str, str]) -> Connection:
        callback = parse_callback(query, expected_state=state)
        grant: TokenSet = await self.client.exchange_code(callback.code, state=state)
        profile = await self.client.user_info(grant.access_token, USER_BASIC_FIELDS)
        scopes = tuple(grant.scope)
        account_id = await self.accounts.attach(user_id, grant.open_id, scopes, profile)
        await self.tokens.store_tokens(account_id, grant)
        self._analytics.pop(account_id, None)
        log.info("tiktok account connected", user_id=user_id, open_id=grant.open_id)
        return Connection(user_id, account_id, grant.open_id, scopes, profile)

    async def disconnect(self, account_id: str) -> bool:
        """DELETE /{account}: revoke at TikTok (best effort), forget the tokens and the account."""
        revoked = False
        try:
            token = await self.tokens.get_valid_token(account_id)
            revoked = await self.client.revoke(token)
        except TikTokError as error:
            log.info("tiktok disconnect without revoke", code=error.code)
        await self.tokens.clear_token(account_id)
        await self.accounts.remove(account_id)
        self._analytics.pop(account_id, None)
        return revoked

    # --- reads ---

    async def me(self, account_id: str, fields: list[str] | None = None) -> UserInfo:
        wanted = fields or list(USER_BASIC_FIELDS)
        return await self.tokens.call_with_token(
            account_id, lambda token: self.client.user_info(token, wanted)
        )

    async def videos(
        self, account_id: str, cursor: int | None = None, max_count: int = MAX_VIDEO_LIST_COUNT
    ) -> VideoPage:
        return await self.tokens.call_with_token(
            account_id,
            lambda token: self.client.list_videos(token, cursor=cursor, max_count=max_count),
        )

    async def analytics(self, account_id: str, *, fresh: bool = False) -> AnalyticsSnapshot:
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
        await self.snapshots.record(account_id, snapshot)
        return snapshot

    async def analytics_history(self, account_id: str, days: int = 30) -> list[DailySnapshot]:
        """One reading per day (the day's last), oldest first: growth over time."""
        return await self.snapshots.history(account_id, days)

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

    async def publish_upload(
        self, account_id: str, path: Path, post_info: VideoPostInfo | None
    ) -> PublishRecord:
        """`publish_file` for a file received over HTTP: the file is deleted once TikTok holds
        every byte (or the publish ended); only an interrupted upload keeps it, to resume."""
        try:
            return await self.publish_file(account_id, path, post_info)
        finally:
            if not await self._file_needed(str(path)):
                await anyio.Path(path).unlink(missing_ok=True)

    async def sweep_uploads(self, directory: Path) -> int:
        """Delete received files no unfinished upload needs (after reconciliation)."""
        folder = anyio.Path(directory)
        if not await folder.exists():
            return 0
        needed = await self._files_needed()
        removed = 0
        async for entry in folder.iterdir():
            if str(entry) not in needed and await entry.is_file():
                await entry.unlink(missing_ok=True)
                removed += 1
        return removed

    async def _files_needed(self) -> set[str]:
        return {
            record.file_path
            for record in await self.publisher.journal.unfinished()
            if record.state is PublishState.UPLOADING and record.file_path
        }

    async def _file_needed(self, path: str) -> bool:
        return path in await self._files_needed()

    async def find_publish(self, account_id: str, reference: str) -> PublishRecord | None:
        """A journaled publish of this account by our id or TikTok's publish_id."""
        journal = self.publisher.journal
        record = await journal.get(reference) or await journal.find_by_publish_id(reference)
        if record is None or record.account_id != account_id:
            return None
        return record

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
        return await self.publisher.observe(record, status), status

    async def reconcile_all(self) -> list[PublishRecord]:
        """At start-up: settle every journaled publish by asking TikTok, never by resending.
        Failures are logged per publish; the rest go on."""
        by_account: dict[str, list[PublishRecord]] = {}
        for record in await self.publisher.journal.unfinished():
            by_account.setdefault(record.account_id, []).append(record)
        results = await asyncio.gather(
            *(self._reconcile_account(a, records) for a, records in by_account.items())
        )
        return [record for done in results for record in done]

    async def _reconcile_account(
        self, account_id: str, records: list[PublishRecord]
    ) -> list[PublishRecord]:
        try:
            token = await self.tokens.get_valid_token(account_id)
        except TikTokError as error:
            log.warning("tiktok reconcile skipped", account_id=account_id, code=error.code)
            return []
        outcomes = await asyncio.gather(
            *(self.publisher.reconcile(token, r.id) for r in records), return_exceptions=True
        )
        done = []
        for record, outcome in zip(records, outcomes, strict=True):
            if isinstance(outcome, PublishRecord):
                done.append(outcome)
            elif isinstance(outcome, TikTokError):
                log.warning("tiktok reconcile failed", record=record.id, code=outcome.code)
            else:
                log.error("tiktok reconcile crashed", record=record.id, exc_info=outcome)
        return done

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
        if not await self.idempotency.claim(event.idempotency_key, event.event):
            return WebhookOutcome(event, duplicate=True)
        try:
            return await self._apply_webhook(event)
        except BaseException:
            # Not handled after all: let TikTok's re-delivery try again.
            await self.idempotency.release(event.idempotency_key)
            raise

    async def _apply_webhook(self, event: WebhookEvent) -> WebhookOutcome:
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
