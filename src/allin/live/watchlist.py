"""Watchlist: streamers a user wants captured automatically.

A `Watcher` checks the live status of every watched streamer on an interval (with jitter, so
many instances do not poll in step), asks the source for all of them at once, starts a
capture for each owner whose streamer went live and stops it when the streamer is offline.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.auth.models import User, UserStatus
from allin.core.clock import utcnow
from allin.core.errors import AppError, ConflictError, NotFoundError
from allin.core.logging import Category, get_logger
from allin.live.capture import AlreadyCapturingError, CaptureManager
from allin.live.models import WatchlistEntry

log = get_logger(Category.LIVE)
CHECK_CHUNK = 100  # usernames per bulk live-status request


class AlreadyWatchedError(ConflictError):
    code = "LIVE_ALREADY_WATCHED"
    default_message = "This streamer is already on your watchlist"


class WatchlistLimitError(AppError):
    code = "LIVE_WATCHLIST_LIMIT"
    status_code = 409
    default_message = "Your watchlist is full"


MAX_ENTRIES_PER_USER = 200


async def add_entry(db: AsyncSession, owner_id: uuid.UUID, username: str) -> WatchlistEntry:
    existing = await db.scalar(
        select(WatchlistEntry).where(
            WatchlistEntry.owner_id == owner_id, WatchlistEntry.username == username
        )
    )
    if existing is not None:
        raise AlreadyWatchedError(details={"id": str(existing.id)})
    count = await db.scalar(
        select(func.count()).select_from(WatchlistEntry).where(WatchlistEntry.owner_id == owner_id)
    )
    if (count or 0) >= MAX_ENTRIES_PER_USER:
        raise WatchlistLimitError(details={"limit": MAX_ENTRIES_PER_USER})
    entry = WatchlistEntry(owner_id=owner_id, username=username, enabled=True, is_live=False)
    db.add(entry)
    try:
        await db.flush()
    except IntegrityError:
        # Another request added it between the check above and this insert: the same
        # answer as the check's. This request wrote nothing else to keep.
        await db.rollback()
        winner = await db.scalar(
            select(WatchlistEntry.id).where(
                WatchlistEntry.owner_id == owner_id, WatchlistEntry.username == username
            )
        )
        raise AlreadyWatchedError(details={"id": str(winner)}) from None
    return entry


async def list_entries(db: AsyncSession, owner_id: uuid.UUID) -> Sequence[WatchlistEntry]:
    rows = await db.scalars(
        select(WatchlistEntry)
        .where(WatchlistEntry.owner_id == owner_id)
        .order_by(WatchlistEntry.username)
    )
    return rows.all()


async def remove_entry(db: AsyncSession, owner_id: uuid.UUID, username: str) -> None:
    entry = await db.scalar(
        select(WatchlistEntry).where(
            WatchlistEntry.owner_id == owner_id, WatchlistEntry.username == username
        )
    )
    if entry is None:
        raise NotFoundError("This streamer is not on your watchlist")
    await db.delete(entry)


class Watcher:
    """The background checker. `check_once()` is one round (tests call it directly)."""

    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        captures: CaptureManager,
        interval: float,
        jitter: float,
    ) -> None:
        self._db = session_factory
        self._captures = captures
        self._interval = interval
        self._jitter = jitter
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="live-watcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def next_delay(self) -> float:
        spread = self._interval * self._jitter
        return max(0.0, self._interval + random.uniform(-spread, spread))  # noqa: S311

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.next_delay())
            try:
                await self.check_once()
            except Exception as exc:  # one failed round must not end the watcher
                log.warning("watchlist check failed", error=repr(exc))

    async def check_once(self) -> None:
        async with self._db() as db:
            entries = list(
                await db.scalars(
                    select(WatchlistEntry)
                    .join(User, User.id == WatchlistEntry.owner_id)
                    .where(WatchlistEntry.enabled, User.status != UserStatus.SUSPENDED)
                )
            )
            if not entries:
                return
            status = await self._live_status(sorted({e.username for e in entries}))
            now = utcnow()
            for entry in entries:
                entry.last_checked_at = now
                if entry.username in status:
                    entry.is_live = status[entry.username]
                    await self._apply(entry)
            await db.commit()

    async def _live_status(self, usernames: list[str]) -> dict[str, bool]:
        status: dict[str, bool] = {}
        for start in range(0, len(usernames), CHECK_CHUNK):
            chunk = usernames[start : start + CHECK_CHUNK]
            try:
                status.update(await self._captures.sources.live_status(chunk))
            except Exception as exc:  # unknown status: leave these entries as they were
                log.warning("live status check failed", count=len(chunk), error=repr(exc))
        return status

    async def _apply(self, entry: WatchlistEntry) -> None:
        running = self._captures.session_for(entry.owner_id, entry.username)
        if entry.is_live and running is None:
            try:
                session = await self._captures.start(entry.owner_id, entry.username)
            except AlreadyCapturingError:
                return
            except AppError as exc:  # went offline in between, limit reached, ...
                log.info(
                    "watchlist capture not started", streamer=entry.username, error_code=exc.code
                )
                return
            entry.last_session_id = session.id
            log.info("watchlist capture started", streamer=entry.username, session=str(session.id))
        elif not entry.is_live and running is not None:
            await self._captures.stop(running, reason="offline")
