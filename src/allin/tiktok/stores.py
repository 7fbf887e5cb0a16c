"""Database implementations of the service's storage protocols (SQLite and PostgreSQL).

Each call is its own short unit of work on its own session: the stores are used by request
handlers and by background work (reconciliation, webhooks) alike, and TikTok calls must never
run inside a request's transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.core.clock import clock, utcnow
from allin.core.errors import ConflictError
from allin.core.logging import Category, get_logger
from allin.social.models import AccountStatus, SocialAccount, TokenBinding
from allin.tiktok.analytics import AnalyticsSnapshot, DailySnapshot
from allin.tiktok.models import UserInfo
from allin.tiktok.publish import PublishRecord, PublishState
from allin.tiktok.tables import (
    TikTokAnalyticsSnapshot,
    TikTokOAuthState,
    TikTokPublish,
    TikTokWebhookEvent,
)
from allin.tiktok.tokens import SealedToken, TokenRow

log = get_logger(Category.TIKTOK)
Sessions = async_sessionmaker[AsyncSession]

_FINISHED = (PublishState.COMPLETE.value, PublishState.FAILED.value, PublishState.INBOX.value)


def as_uuid(value: str | uuid.UUID) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError):
        return None


def _insert(session: AsyncSession, table: Any) -> Any:
    """The dialect's INSERT, which has ON CONFLICT on both backends we support."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class AccountInUseError(ConflictError):
    code = "TIKTOK_ACCOUNT_IN_USE"
    default_message = "This TikTok account is already connected to another AllIN user."


# --- connected accounts and their tokens ---


# TikTok accounts are the `tiktok` rows of the social accounts table.
TIKTOK = "tiktok"
IS_TIKTOK = SocialAccount.platform == TIKTOK


def sealed_from_row(row: SocialAccount) -> SealedToken | None:
    if row.access_token_enc is None or row.token_expires_at is None:
        return None
    return SealedToken(
        account_id=str(row.id),
        access_token_enc=row.access_token_enc,
        expires_at=row.token_expires_at,
        refresh_token_enc=row.refresh_token_enc,
        refresh_expires_at=row.refresh_expires_at,
        open_id=row.platform_user_id,
        scopes=tuple(row.scopes or ()),
        token_type=row.token_type,
        issued_at=row.token_issued_at,
        refreshed_at=row.token_refreshed_at,
        bound=row.token_binding == TokenBinding.ROW,
    )


def _token_columns(token: SealedToken) -> dict[str, Any]:
    return {
        "access_token_enc": token.access_token_enc,
        "token_expires_at": token.expires_at,
        "refresh_token_enc": token.refresh_token_enc,
        "refresh_expires_at": token.refresh_expires_at,
        "token_binding": TokenBinding.ROW if token.bound else TokenBinding.KEY,
        "scopes": list(token.scopes),
        "token_type": token.token_type,
        "token_issued_at": token.issued_at,
        "token_refreshed_at": token.refreshed_at,
        "status": AccountStatus.ACTIVE.value,
        "status_reason": None,
        "reconnect_fixes": False,
        "last_error": None,
        "updated_at": utcnow(),
    }


_CLEARED: dict[str, Any] = {
    "access_token_enc": None,
    "token_expires_at": None,
    "refresh_token_enc": None,
    "refresh_expires_at": None,
    "status": AccountStatus.REVOKED.value,
    "status_reason": "TikTok withdrew the authorization",
    "reconnect_fixes": True,
}


def legacy_status(row: SocialAccount) -> str:
    """The TikTok routes' status words: `active`, or `reconnect_required`."""
    return "active" if row.status == AccountStatus.ACTIVE else "reconnect_required"


class _KeyedLocks:
    """Process-local locks by key, dropped when nobody holds or waits for them."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


# SQLite ignores FOR UPDATE; one SQLite file is served by one process, so a lock shared by
# every store of the process (keyed by database) gives the same guarantee there.
_SQLITE_LOCKS = _KeyedLocks()


@dataclass(slots=True)
class _LockedRow:
    session: AsyncSession
    account_id: uuid.UUID
    current: SealedToken | None

    async def save(self, token: SealedToken) -> None:
        await self.session.execute(
            update(SocialAccount)
            .where(SocialAccount.id == self.account_id, IS_TIKTOK)
            .values(**_token_columns(token))
        )
        await self.session.commit()  # durable at once; also releases the row lock
        self.current = token

    async def delete(self) -> None:
        await self.session.execute(
            update(SocialAccount)
            .where(SocialAccount.id == self.account_id, IS_TIKTOK)
            .values(**_CLEARED)
        )
        await self.session.commit()
        self.current = None


class DbTokenStore:
    """Tokens live on the account row; `delete` keeps the row and asks for a reconnect."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    async def load(self, account_id: str) -> SealedToken | None:
        key = as_uuid(account_id)
        if key is None:
            return None
        async with self.sessions() as db:
            row = await db.get(SocialAccount, key)
            if row is None or row.platform != TIKTOK:
                return None
            return sealed_from_row(row)

    async def save(self, token: SealedToken) -> None:
        key = as_uuid(token.account_id)
        async with self.sessions() as db:
            result = await db.execute(
                update(SocialAccount)
                .where(SocialAccount.id == key, IS_TIKTOK)
                .values(**_token_columns(token))
            )
            await db.commit()
        if not getattr(result, "rowcount", 0):
            log.warning("tiktok tokens for a removed account dropped", account_id=token.account_id)

    async def delete(self, account_id: str) -> None:
        key = as_uuid(account_id)
        if key is None:
            return
        async with self.sessions() as db:
            await db.execute(
                update(SocialAccount).where(SocialAccount.id == key, IS_TIKTOK).values(**_CLEARED)
            )
            await db.commit()

    async def account_for_open_id(self, open_id: str) -> str | None:
        async with self.sessions() as db:
            found = await db.scalar(
                select(SocialAccount.id).where(IS_TIKTOK, SocialAccount.platform_user_id == open_id)
            )
        return str(found) if found is not None else None

    def locked(self, account_id: str) -> AbstractAsyncContextManager[TokenRow]:
        return self._locked(account_id)

    @asynccontextmanager
    async def _locked(self, account_id: str) -> AsyncIterator[TokenRow]:
        key = as_uuid(account_id)
        async with self.sessions() as db:
            bind = db.get_bind()
            if bind.dialect.name == "sqlite":
                async with _SQLITE_LOCKS.hold((str(bind.engine.url), account_id)):
                    yield await self._select_for_update(db, key)
            else:
                yield await self._select_for_update(db, key)
            await db.commit()

    @staticmethod
    async def _select_for_update(db: AsyncSession, key: uuid.UUID | None) -> _LockedRow:
        row = await db.scalar(
            select(SocialAccount).where(SocialAccount.id == key, IS_TIKTOK).with_for_update()
        )
        sealed = sealed_from_row(row) if row is not None else None
        return _LockedRow(db, key or uuid.UUID(int=0), sealed)

    async def rotate_all(self, rotate: Callable[[SealedToken], SealedToken]) -> int:
        """Re-encrypt every account's tokens (`SealedToken.rotated`), each row under its
        lock so a concurrent refresh is never overwritten. Returns how many rows changed."""
        async with self.sessions() as db:
            ids = list(await db.scalars(select(SocialAccount.id).where(IS_TIKTOK)))
        changed = 0
        for key in ids:
            async with self.locked(str(key)) as row:
                current = row.current
                if current is None:
                    continue
                rotated = rotate(current)
                if rotated != current:
                    await row.save(rotated)
                    changed += 1
        return changed


class DbAccounts:
    """Which AllIN user owns which TikTok account (by open_id, one owner each)."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    async def attach(
        self, user_id: str, open_id: str | None, scopes: tuple[str, ...], profile: UserInfo
    ) -> str:
        owner = as_uuid(user_id)
        if owner is None or not open_id:
            raise ValueError("attach needs a user id and TikTok's open_id")
        for attempt in range(2):
            try:
                return await self._attach(owner, open_id, scopes, profile)
            except IntegrityError:  # two callbacks for one new open_id at once
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attach(
        self, owner: uuid.UUID, open_id: str, scopes: tuple[str, ...], profile: UserInfo
    ) -> str:
        async with self.sessions() as db:
            # One AllIN user per TikTok account (TikTok's webhooks name the account only).
            row = await db.scalar(
                select(SocialAccount).where(IS_TIKTOK, SocialAccount.platform_user_id == open_id)
            )
            if row is not None and row.owner_id != owner:
                raise AccountInUseError()
            if row is None:
                row = SocialAccount(
                    owner_id=owner, platform=TIKTOK, platform_user_id=open_id, extra={}
                )
                db.add(row)
            if profile.union_id:
                row.extra = {**(row.extra or {}), "union_id": profile.union_id}
            row.username = profile.username or row.username
            row.display_name = profile.display_name or row.display_name
            row.avatar_url = profile.avatar_url or row.avatar_url
            row.scopes = list(scopes)
            row.status = AccountStatus.ACTIVE.value
            row.status_reason = None
            row.reconnect_fixes = False
            await db.commit()
            return str(row.id)

    async def remove(self, account_id: str) -> None:
        key = as_uuid(account_id)
        if key is None:
            return
        async with self.sessions() as db:
            await db.execute(delete(SocialAccount).where(SocialAccount.id == key, IS_TIKTOK))
            await db.commit()

    async def active_ids(self) -> list[str]:
        async with self.sessions() as db:
            ids = await db.scalars(
                select(SocialAccount.id).where(
                    IS_TIKTOK, SocialAccount.status == AccountStatus.ACTIVE.value
                )
            )
            return [str(key) for key in ids]


# --- OAuth states ---


def state_digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PendingState:
    user_id: str
    binding: str | None


class DbStateStore:
    """One-time states: `pop` deletes the row, so a replayed callback finds nothing."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    async def put(
        self, state: str, user_id: str, expires_at: datetime, binding: str | None = None
    ) -> None:
        owner = as_uuid(user_id)
        if owner is None:
            raise ValueError("OAuth states belong to a user id")
        async with self.sessions() as db:
            await db.execute(
                delete(TikTokOAuthState).where(TikTokOAuthState.expires_at <= utcnow())
            )
            db.add(
                TikTokOAuthState(
                    state_hash=state_digest(state),
                    user_id=owner,
                    expires_at=expires_at,
                    binding_digest=binding,
                )
            )
            await db.commit()

    async def peek(self, state: str) -> PendingState | None:
        """The live state's owner and browser binding, left in place."""
        if not state:
            return None
        async with self.sessions() as db:
            row = await db.get(TikTokOAuthState, state_digest(state))
        if row is None or row.expires_at <= utcnow():
            return None
        return PendingState(str(row.user_id), row.binding_digest)

    async def pop(self, state: str) -> str | None:
        if not state:
            return None
        async with self.sessions() as db:
            found = (
                await db.execute(
                    delete(TikTokOAuthState)
                    .where(TikTokOAuthState.state_hash == state_digest(state))
                    .returning(TikTokOAuthState.user_id, TikTokOAuthState.expires_at)
                )
            ).first()
            await db.commit()
        if found is None or found.expires_at <= utcnow():
            return None
        return str(found.user_id)


# --- the publish journal ---


def _record_columns(record: PublishRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "account_id": as_uuid(record.account_id),
        "mode": record.mode,
        "source": record.source,
        "state": record.state.value,
        "privacy_level": record.privacy_level,
        "publish_id": record.publish_id,
        "upload_url": record.upload_url,
        "upload_expires_at": record.upload_expires_at,
        "file_path": record.file_path,
        "video_size": record.video_size,
        "chunk_size": record.chunk_size,
        "total_chunk_count": record.total_chunk_count,
        "uploaded_bytes": record.uploaded_bytes,
        "tiktok_status": record.tiktok_status,
        "fail_reason": record.fail_reason,
        "post_ids": list(record.post_ids),
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def record_from_row(row: TikTokPublish) -> PublishRecord:
    return PublishRecord(
        id=row.id,
        account_id=str(row.account_id),
        mode=row.mode,
        source=row.source,
        state=PublishState(row.state),
        privacy_level=row.privacy_level,
        publish_id=row.publish_id,
        upload_url=row.upload_url,
        upload_expires_at=row.upload_expires_at,
        file_path=row.file_path,
        video_size=row.video_size,
        chunk_size=row.chunk_size,
        total_chunk_count=row.total_chunk_count,
        uploaded_bytes=row.uploaded_bytes,
        tiktok_status=row.tiktok_status,
        fail_reason=row.fail_reason,
        post_ids=tuple(row.post_ids or ()),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class DbPublishJournal:
    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    async def save(self, record: PublishRecord) -> None:
        columns = _record_columns(record)
        async with self.sessions() as db:
            statement = _insert(db, TikTokPublish).values(**columns)
            changes = {k: v for k, v in columns.items() if k not in ("id", "created_at")}
            await db.execute(statement.on_conflict_do_update(index_elements=["id"], set_=changes))
            await db.commit()

    async def get(self, record_id: str) -> PublishRecord | None:
        async with self.sessions() as db:
            row = await db.get(TikTokPublish, record_id)
            return record_from_row(row) if row is not None else None

    async def unfinished(self) -> list[PublishRecord]:
        async with self.sessions() as db:
            rows = await db.scalars(
                select(TikTokPublish)
                .where(TikTokPublish.state.not_in(_FINISHED))
                .order_by(TikTokPublish.created_at)
            )
            return [record_from_row(row) for row in rows]

    async def find_by_publish_id(self, publish_id: str) -> PublishRecord | None:
        async with self.sessions() as db:
            row = await db.scalar(
                select(TikTokPublish).where(TikTokPublish.publish_id == publish_id)
            )
            return record_from_row(row) if row is not None else None


# --- webhook idempotency ---


class DbIdempotency:
    """Keys in a unique column; expired ones are purged now and then."""

    def __init__(self, sessions: Sessions, retention: timedelta = timedelta(days=7)) -> None:
        self.sessions = sessions
        self.retention = retention
        self._purged_at: float | None = None

    async def claim(self, key: str, event: str = "") -> bool:
        async with self.sessions() as db:
            await self._purge(db)
            statement = _insert(db, TikTokWebhookEvent).values(
                idempotency_key=key, event=event[:64], received_at=utcnow()
            )
            result = await db.execute(statement.on_conflict_do_nothing())
            await db.commit()
        return bool(getattr(result, "rowcount", 0))

    async def release(self, key: str) -> None:
        async with self.sessions() as db:
            await db.execute(
                delete(TikTokWebhookEvent).where(TikTokWebhookEvent.idempotency_key == key)
            )
            await db.commit()

    async def _purge(self, db: AsyncSession) -> None:
        now = clock.monotonic()
        if self._purged_at is not None and now - self._purged_at < 3600:
            return
        self._purged_at = now
        horizon = utcnow() - self.retention
        await db.execute(delete(TikTokWebhookEvent).where(TikTokWebhookEvent.received_at < horizon))


# --- daily analytics snapshots ---


def _snapshot_columns(account_id: uuid.UUID, snapshot: AnalyticsSnapshot) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "day": snapshot.taken_at.date(),
        "taken_at": snapshot.taken_at,
        "followers": snapshot.followers,
        "following": snapshot.following,
        "total_likes": snapshot.total_likes,
        "video_count": snapshot.video_count,
        "views": snapshot.views,
        "likes": snapshot.likes,
        "comments": snapshot.comments,
        "shares": snapshot.shares,
        "engagement_rate": snapshot.engagement_rate,
        "videos": [
            {
                "id": v.id,
                "views": v.views,
                "likes": v.likes,
                "comments": v.comments,
                "shares": v.shares,
            }
            for v in snapshot.videos
        ],
    }


def daily_from_row(row: TikTokAnalyticsSnapshot) -> DailySnapshot:
    return DailySnapshot(
        day=row.day,
        taken_at=row.taken_at,
        followers=row.followers,
        following=row.following,
        total_likes=row.total_likes,
        video_count=row.video_count,
        views=row.views,
        likes=row.likes,
        comments=row.comments,
        shares=row.shares,
        engagement_rate=row.engagement_rate,
    )


class DbSnapshots:
    """The latest reading of each UTC day wins, so a chart has one point per day."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    async def record(self, account_id: str, snapshot: AnalyticsSnapshot) -> None:
        key = as_uuid(account_id)
        if key is None:
            return
        columns = _snapshot_columns(key, snapshot)
        async with self.sessions() as db:
            statement = _insert(db, TikTokAnalyticsSnapshot).values(**columns)
            changes = {k: v for k, v in columns.items() if k not in ("account_id", "day")}
            try:
                await db.execute(
                    statement.on_conflict_do_update(
                        index_elements=["account_id", "day"], set_=changes
                    )
                )
                await db.commit()
            except IntegrityError:  # the account was removed meanwhile
                log.info("tiktok snapshot of a removed account dropped", account_id=account_id)

    async def history(self, account_id: str, days: int) -> list[DailySnapshot]:
        key = as_uuid(account_id)
        if key is None:
            return []
        since = (utcnow() - timedelta(days=days - 1)).date()
        async with self.sessions() as db:
            rows = await db.scalars(
                select(TikTokAnalyticsSnapshot)
                .where(
                    TikTokAnalyticsSnapshot.account_id == key,
                    TikTokAnalyticsSnapshot.day >= since,
                )
                .order_by(TikTokAnalyticsSnapshot.day)
            )
            return [daily_from_row(row) for row in rows]
