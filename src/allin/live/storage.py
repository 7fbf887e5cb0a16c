"""Batched, durable event storage.

Capture tasks `submit()` events; one writer task inserts them in batches (when a batch is full
or the oldest event has waited `flush_interval`), one `INSERT ... RETURNING id` statement per
batch plus the sessions' counters in the same transaction. Only after the commit are the
stored events handed to `on_stored` (the hub), so anything a subscriber sees is durable and
carries the id it can resume from.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import islice
from typing import Any, cast

from sqlalchemy import Table, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from allin.core.clock import clock, utcnow
from allin.core.logging import Category, get_logger
from allin.live.models import LiveEventRow, LiveSession

log = get_logger(Category.LIVE)

EVENTS = cast(Table, LiveEventRow.__table__)
SESSIONS = cast(Table, LiveSession.__table__)


@dataclass(slots=True)
class EventRecord:
    """One event as stored: the queryable columns, the raw bytes and the processed JSON."""

    type: str
    created_at: datetime
    msg_id: int | None = None
    user_id: str | None = None
    unique_id: str | None = None
    nickname: str | None = None
    message: str | None = None
    gift_id: int | None = None
    gift_name: str | None = None
    diamonds: int = 0
    gift_count: int = 0
    repeat_count: int | None = None
    like_count: int = 0
    viewer_count: int | None = None
    raw: bytes | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def row(self, session_id: uuid.UUID) -> dict[str, Any]:
        return {
            "session_id": session_id,
            "type": self.type,
            "msg_id": self.msg_id,
            "user_id": self.user_id,
            "unique_id": self.unique_id,
            "nickname": self.nickname,
            "message": self.message,
            "gift_id": self.gift_id,
            "gift_name": self.gift_name,
            "diamonds": self.diamonds,
            "gift_count": self.gift_count,
            "repeat_count": self.repeat_count,
            "like_count": self.like_count,
            "viewer_count": self.viewer_count,
            "created_at": self.created_at,
            "raw": self.raw,
            "data": self.data,
        }


# The columns an API client sees, in order (CSV header too); `raw` is served separately.
PUBLIC_COLUMNS = (
    "id",
    "session_id",
    "type",
    "timestamp",
    "msg_id",
    "user_id",
    "unique_id",
    "nickname",
    "message",
    "gift_id",
    "gift_name",
    "repeat_count",
    "gift_count",
    "diamonds",
    "like_count",
    "viewer_count",
    "data",
)


def public_event(event_id: int, values: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON shape of a stored event, from a row or from `EventRecord.row()`.
    64-bit ids are strings so JavaScript clients keep every digit."""
    msg_id = values["msg_id"]
    gift_id = values["gift_id"]
    return {
        "id": event_id,
        "session_id": str(values["session_id"]),
        "type": values["type"],
        "timestamp": values["created_at"].isoformat(),
        "msg_id": None if msg_id is None else str(msg_id),
        "user_id": values["user_id"],
        "unique_id": values["unique_id"],
        "nickname": values["nickname"],
        "message": values["message"],
        "gift_id": None if gift_id is None else str(gift_id),
        "gift_name": values["gift_name"],
        "repeat_count": values["repeat_count"],
        "gift_count": values["gift_count"],
        "diamonds": values["diamonds"],
        "like_count": values["like_count"],
        "viewer_count": values["viewer_count"],
        "data": values["data"],
    }


@dataclass(slots=True)
class SessionTally:
    """A session's running totals, written with every batch that touches the session."""

    counters: dict[str, int] = field(default_factory=dict)
    total_events: int = 0
    total_likes: int = 0
    total_diamonds: int = 0
    peak_viewers: int = 0
    current_viewers: int = 0

    @classmethod
    def of(cls, session: LiveSession) -> SessionTally:
        return cls(
            counters=dict(session.counters or {}),
            total_events=session.total_events or 0,
            total_likes=session.total_likes or 0,
            total_diamonds=session.total_diamonds or 0,
            peak_viewers=session.peak_viewers or 0,
            current_viewers=session.current_viewers or 0,
        )

    def copy(self) -> SessionTally:
        return replace(self, counters=dict(self.counters))

    def add(self, record: EventRecord) -> None:
        self.counters[record.type] = self.counters.get(record.type, 0) + 1
        self.total_events += 1
        self.total_likes += record.like_count
        self.total_diamonds += record.diamonds
        if record.viewer_count is not None:
            self.current_viewers = record.viewer_count
            self.peak_viewers = max(self.peak_viewers, record.viewer_count)

    def values(self) -> dict[str, Any]:
        return {
            "counters": dict(self.counters),
            "total_events": self.total_events,
            "total_likes": self.total_likes,
            "total_diamonds": self.total_diamonds,
            "peak_viewers": self.peak_viewers,
            "current_viewers": self.current_viewers,
        }


StoredCallback = Callable[[uuid.UUID, list[dict[str, Any]]], Awaitable[None]]
Pending = tuple[uuid.UUID, EventRecord]


class WriterClosedError(RuntimeError):
    """The writer was closed (or failed) and accepts no more events."""


class EventWriter:
    """The one writer of `live_events` in this process. Sessions must be `track()`ed first."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        batch_size: int = 500,
        flush_interval: float = 0.05,
        max_pending: int = 50_000,
        on_stored: StoredCallback | None = None,
        retry_delay: float = 0.5,
    ) -> None:
        self._engine = engine
        self._batch_size = min(batch_size, max_batch_rows(engine.dialect.name))
        self._flush_interval = flush_interval
        self._max_pending = max_pending
        self._on_stored = on_stored
        self._retry_delay = retry_delay
        self._pending: deque[Pending] = deque()
        self._tallies: dict[uuid.UUID, SessionTally] = {}
        self._submitted = 0
        self._durable = 0  # every event up to this sequence number is committed (or dropped)
        self._progress = asyncio.Condition()
        self._has_items = asyncio.Event()
        self._kick = asyncio.Event()  # a full batch or a flush() is waiting
        self._flush_target = 0  # flush() waits for events up to this sequence number
        self._oldest_at = 0.0  # when the oldest pending event arrived (monotonic)
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.batches_written = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="live-event-writer")

    async def close(self) -> None:
        """Writes everything accepted so far, then stops."""
        if self._closed:
            return
        with suppress(WriterClosedError):
            await self.flush()
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    # -- sessions ----------------------------------------------------------------------------

    def track(self, session_id: uuid.UUID, tally: SessionTally) -> None:
        self._tallies[session_id] = tally

    def tally(self, session_id: uuid.UUID) -> SessionTally | None:
        return self._tallies.get(session_id)

    def forget(self, session_id: uuid.UUID) -> None:
        self._tallies.pop(session_id, None)

    @property
    def pending(self) -> int:
        return len(self._pending)

    # -- writing -----------------------------------------------------------------------------

    async def submit(self, session_id: uuid.UUID, record: EventRecord) -> None:
        """Queue one event; waits while `max_pending` events are queued (back-pressure)."""
        self._check_open()
        if session_id not in self._tallies:
            raise KeyError(f"session {session_id} is not tracked by the writer")
        if len(self._pending) >= self._max_pending:
            async with self._progress:
                await self._progress.wait_for(
                    lambda: self._closed or len(self._pending) < self._max_pending
                )
            self._check_open()
        if not self._pending:
            self._oldest_at = clock.monotonic()
        self._pending.append((session_id, record))
        self._submitted += 1
        self._has_items.set()
        if len(self._pending) >= self._batch_size:
            self._kick.set()

    async def flush(self) -> None:
        """Returns once every event submitted before the call is committed and published."""
        target = self._submitted
        if self._durable >= target:
            return
        self._check_open()
        self._flush_target = max(self._flush_target, target)
        self._kick.set()
        async with self._progress:
            await self._progress.wait_for(lambda: self._closed or self._durable >= target)
        if self._durable < target:
            raise WriterClosedError("writer closed before the flush completed")

    def _check_open(self) -> None:
        if self._closed or (self._task is not None and self._task.done()):
            raise WriterClosedError("the event writer is not running")

    async def _run(self) -> None:
        while True:
            await self._has_items.wait()
            if not self._due():
                # Let a batch fill, but hold no event much longer than the flush interval.
                delay = self._oldest_at + self._flush_interval - clock.monotonic()
                if delay > 0:
                    self._kick.clear()
                    with suppress(TimeoutError):
                        await asyncio.wait_for(self._kick.wait(), delay)
            if not await self._write_batch():
                await asyncio.sleep(self._retry_delay)
                continue
            if self._pending:
                self._oldest_at = clock.monotonic()
            else:
                self._has_items.clear()

    def _due(self) -> bool:
        return len(self._pending) >= self._batch_size or self._durable < self._flush_target

    async def _write_batch(self) -> bool:
        """Writes the oldest batch; False if the database failed and it must be retried."""
        batch = list(islice(self._pending, self._batch_size))
        tallies = self._tallies_after(batch)
        try:
            ids = await self._insert(batch, tallies)
        except IntegrityError as exc:
            # A session deleted under us: these events can never be stored; nobody saw them.
            log.error("dropping unstorable events", count=len(batch), error=str(exc))
            ids = None
        except Exception as exc:  # database unavailable: keep the events and retry
            log.warning("event batch failed, retrying", count=len(batch), error=str(exc))
            return False
        for _ in batch:
            self._pending.popleft()
        if ids is not None:
            self._tallies.update((sid, t) for sid, t in tallies.items() if sid in self._tallies)
            await self._publish(batch, ids)
        self.batches_written += 1
        self._durable += len(batch)
        async with self._progress:
            self._progress.notify_all()
        return True

    def _tallies_after(self, batch: Iterable[Pending]) -> dict[uuid.UUID, SessionTally]:
        tallies: dict[uuid.UUID, SessionTally] = {}
        for session_id, record in batch:
            tally = tallies.get(session_id)
            if tally is None:
                current = self._tallies.get(session_id) or SessionTally()
                tally = tallies[session_id] = current.copy()
            tally.add(record)
        return tallies

    async def _insert(
        self, batch: list[Pending], tallies: dict[uuid.UUID, SessionTally]
    ) -> list[int]:
        rows = [record.row(session_id) for session_id, record in batch]
        async with self._engine.begin() as conn:
            ids = await insert_returning_ids(conn, rows)
            await _update_sessions(conn, tallies)
        return ids

    async def _publish(self, batch: list[Pending], ids: list[int]) -> None:
        if self._on_stored is None:
            return
        by_session: dict[uuid.UUID, list[dict[str, Any]]] = {}
        for (session_id, record), event_id in zip(batch, ids, strict=True):
            row = record.row(session_id)
            by_session.setdefault(session_id, []).append(public_event(event_id, row))
        for session_id, events in by_session.items():
            try:
                await self._on_stored(session_id, events)
            except Exception as exc:  # subscribers re-read the database; storage goes on
                log.error(
                    "publishing stored events failed", session=str(session_id), error=str(exc)
                )


# SQLite binds at most 32766 parameters per statement; one batch must fit in one INSERT.
SQLITE_MAX_PARAMETERS = 32_766


def max_batch_rows(dialect: str) -> int:
    return SQLITE_MAX_PARAMETERS // len(EVENTS.c) if dialect == "sqlite" else 10_000


async def insert_returning_ids(conn: AsyncConnection, rows: list[dict[str, Any]]) -> list[int]:
    """One multi-row `INSERT ... RETURNING id`; the ids in the order of `rows`.

    PostgreSQL: SQLAlchemy orders the RETURNING rows by a sentinel (INSERT ... SELECT ...
    ORDER BY). SQLite does not promise RETURNING order, but an INTEGER PRIMARY KEY gets
    max(rowid) + 1 for each row in VALUES order under the write lock, so the ids are
    consecutive and ascending in row order: sorting them restores the pairing (checked)."""
    options = {"insertmanyvalues_page_size": max(len(rows), 1)}
    if conn.dialect.name == "sqlite":
        result = await conn.execute(
            insert(EVENTS).returning(EVENTS.c.id), rows, execution_options=options
        )
        ids = sorted(row[0] for row in result)
        if ids and ids[-1] - ids[0] + 1 != len(ids):
            raise RuntimeError("SQLite assigned non-consecutive event ids")
        return ids
    statement = insert(EVENTS).returning(EVENTS.c.id, sort_by_parameter_order=True)
    result = await conn.execute(statement, rows, execution_options=options)
    return [row[0] for row in result]


async def _update_sessions(conn: AsyncConnection, tallies: dict[uuid.UUID, SessionTally]) -> None:
    now = utcnow()
    for session_id, tally in tallies.items():
        await conn.execute(
            update(SESSIONS)
            .where(SESSIONS.c.id == session_id)
            .values(**tally.values(), heartbeat_at=now, updated_at=now)
        )
