"""Batched, durable event storage.

Capture tasks `offer()` or `submit()` events; one writer task inserts them in batches (when a
batch is full or the oldest event has waited `flush_interval`), one multi-row INSERT per batch
(with `RETURNING id` on PostgreSQL; on SQLite the ids follow from the last rowid); when full
batches queue up (the writer is behind), up to 8 share one transaction.
Only after the commit are the stored events handed to `on_stored` (the hub), so anything
a subscriber sees is durable and carries the id it can resume from. Session totals ride along
in the batches' transactions at most once per `tally_interval` per session.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from itertools import islice
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from allin.core.clock import clock, utcnow
from allin.core.logging import Category, get_logger
from allin.live.models import LiveEventRow, LiveSession
from allin.live.protocol import GiftEvent, LiveEvent
from allin.live.protocol.models import Record, json_text

log = get_logger(Category.LIVE)

EVENTS = cast(Table, LiveEventRow.__table__)
SESSIONS = cast(Table, LiveSession.__table__)


@dataclass(slots=True)
class EventRecord:
    """One event as stored: the queryable columns, the raw bytes and the processed JSON.

    The processed JSON is `data`, or, for a record mapped from a protocol event, rendered
    from that `source` event when needed (`processed()`, `processed_json()`): storage
    writes the text straight from the event, and the dict is only built for subscribers."""

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
    source: Record | None = field(default=None, repr=False, compare=False)

    def processed(self) -> dict[str, Any]:
        """The processed JSON (the stored `data` column)."""
        return self.data if self.source is None else self.source.to_dict()

    def processed_json(self) -> str:
        """`processed()` as compact JSON text, as stored on SQLite."""
        return json_text(self.data) if self.source is None else self.source.to_json()

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
            "data": self.processed(),
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
    """A session's running totals (per-type counts, likes, diamonds, viewers)."""

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
    """The one writer of `live_events` in this process. Sessions must be `track()`ed first.

    Session totals live in memory and reach `live_sessions` at most every `tally_interval`
    per session (in the transaction of an event batch when one is due) and on `flush()`: with a
    thousand streams, an UPDATE per session per batch would cost more than the events. After
    a crash they are recounted from the events (`recount`)."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        batch_size: int = 1000,
        flush_interval: float = 0.05,
        max_pending: int = 50_000,
        tally_interval: float = 1.0,
        on_stored: StoredCallback | None = None,
        wants: Callable[[uuid.UUID], bool] | None = None,
        retry_delay: float = 0.5,
        group: int = 8,
    ) -> None:
        self._engine = engine
        self._batch_size = min(batch_size, max_batch_rows(engine.dialect.name))
        self._group = max(1, group)  # full batches per transaction when they queue up
        self._flush_interval = flush_interval
        self._max_pending = max_pending
        self._tally_interval = tally_interval
        self._on_stored = on_stored
        self._wants = wants  # is anyone listening to this session? (skips building events)
        self._retry_delay = retry_delay
        self._pending: deque[Pending] = deque()
        # Back-pressure with hysteresis: producers stop at max_pending and resume together
        # at half of it, so a thousand streams are not woken for every batch.
        self._room = asyncio.Event()
        self._room.set()
        self._tallies: dict[uuid.UUID, SessionTally] = {}
        self._dirty: set[uuid.UUID] = set()  # totals newer in memory than in the database
        self._tally_at: dict[uuid.UUID, float] = {}  # when each was last written (monotonic)
        self._submitted = 0
        self._durable = 0  # every event up to this sequence number is committed (or dropped)
        self._progress = asyncio.Condition()
        self._has_items = asyncio.Event()
        self._kick = asyncio.Event()  # a full batch or a flush() is waiting
        self._flush_target = 0  # flush() waits for events up to this sequence number
        # When each pending event arrived (monotonic), so that none waits for its batch much
        # longer than the flush interval, also those that arrived during the previous write.
        self._arrived: deque[float] = deque()
        self._lock = asyncio.Lock()  # one user of the connection at a time
        self._conn: AsyncConnection | None = None  # the writer's own connection
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        self.batches_written = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._run(), name="live-event-writer"),
                asyncio.create_task(self._maintain(), name="live-writer-maintenance"),
            ]

    async def close(self) -> None:
        """Writes everything accepted so far (events and totals), then stops."""
        if self._closed:
            return
        with suppress(WriterClosedError):
            await self.flush()
        self._closed = True
        for task in self._tasks:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        self._room.set()  # wake producers still waiting for room; they find it closed
        await self._disconnect()

    @property
    def running(self) -> bool:
        return bool(self._tasks) and not self._tasks[0].done() and not self._closed

    # -- sessions ----------------------------------------------------------------------------

    def track(self, session_id: uuid.UUID, tally: SessionTally, *, dirty: bool = False) -> None:
        self._tallies[session_id] = tally
        if dirty:
            self._dirty.add(session_id)

    def tally(self, session_id: uuid.UUID) -> SessionTally | None:
        return self._tallies.get(session_id)

    def forget(self, session_id: uuid.UUID) -> None:
        self._tallies.pop(session_id, None)
        self._dirty.discard(session_id)
        self._tally_at.pop(session_id, None)

    @property
    def pending(self) -> int:
        return len(self._pending)

    # -- writing -----------------------------------------------------------------------------

    def offer(self, session_id: uuid.UUID, record: EventRecord) -> bool:
        """Queue one event if there is room now (no coroutine per event); False when the
        caller must `await submit()` instead, which waits for room."""
        if len(self._pending) >= self._max_pending:
            return False
        self._check_open()
        if session_id not in self._tallies:
            raise KeyError(f"session {session_id} is not tracked by the writer")
        self._queue(session_id, record)
        return True

    async def submit(self, session_id: uuid.UUID, record: EventRecord) -> None:
        """Queue one event; waits while `max_pending` events are queued (back-pressure)."""
        self._check_open()
        if session_id not in self._tallies:
            raise KeyError(f"session {session_id} is not tracked by the writer")
        while len(self._pending) >= self._max_pending:
            self._room.clear()
            await self._room.wait()
            self._check_open()
        self._queue(session_id, record)

    def _queue(self, session_id: uuid.UUID, record: EventRecord) -> None:
        self._pending.append((session_id, record))
        self._arrived.append(clock.monotonic())
        self._submitted += 1
        self._has_items.set()
        if len(self._pending) >= self._batch_size:
            self._kick.set()

    async def flush(self) -> None:
        """Returns once every event submitted before the call is committed and published,
        and every session's totals are written."""
        target = self._submitted
        if self._durable < target:
            self._check_open()
            self._flush_target = max(self._flush_target, target)
            self._kick.set()
            async with self._progress:
                await self._progress.wait_for(lambda: self._closed or self._durable >= target)
            if self._durable < target:
                raise WriterClosedError("writer closed before the flush completed")
        await self.write_tallies(everything=True)

    async def write_tallies(self, *, everything: bool = False) -> None:
        """Writes the totals that are due (or all changed ones)."""
        if not self._dirty:
            return
        async with self._lock:
            due = self._due_tallies({}, everything=everything)
            if not due:
                return
            conn = await self._connection()
            try:
                async with conn.begin():
                    await _update_sessions(conn, due)
            except Exception:
                await self._disconnect()
                raise
            self._written(due)

    def _check_open(self) -> None:
        if self._closed or (self._tasks and self._tasks[0].done()):
            raise WriterClosedError("the event writer is not running")

    async def _run(self) -> None:
        while True:
            await self._has_items.wait()
            if self._arrived and not self._due():
                # Let a batch fill, but hold no event much longer than the flush interval.
                delay = self._arrived[0] + self._flush_interval - clock.monotonic()
                if delay > 0:
                    self._kick.clear()
                    with suppress(TimeoutError):
                        await asyncio.wait_for(self._kick.wait(), delay)
            if not await self._write_batch():
                await asyncio.sleep(self._retry_delay)
                continue
            if not self._pending:
                self._has_items.clear()

    def _due(self) -> bool:
        return len(self._pending) >= self._batch_size or self._durable < self._flush_target

    async def _write_batch(self) -> bool:
        """Writes the oldest batch; False if the database failed and it must be retried.

        When full batches queue up behind it (the writer is behind), up to `group` of them
        go in the same transaction, one INSERT each: a commit writes every page it touched
        once, and with many streams each batch touches a page per stream and index, so
        committing several batches at once writes far fewer pages per event. Nothing waits
        for a group: it is made only of events already waiting."""
        size = self._batch_size
        full = len(self._pending) // size
        count = size * min(full, self._group) if full > 1 else size
        ok = await self._write(count)
        if not ok and count > size:  # e.g. one batch cannot be stored: alone, as before
            ok = await self._write(size)
        return ok

    async def _write(self, count: int) -> bool:
        batch = list(islice(self._pending, count))
        tallies = self._tallies_after(batch)
        async with self._lock:
            due = self._due_tallies(tallies)
            try:
                ids = await self._insert(batch, due)
            except IntegrityError as exc:
                if count > self._batch_size:
                    return False
                # A session deleted under us: these events can never be stored; nobody saw them.
                log.error("dropping unstorable events", count=len(batch), error=str(exc))
                ids = None
            except Exception as exc:  # database unavailable: keep the events and retry
                log.warning("event batch failed, retrying", count=len(batch), error=str(exc))
                return False
        for _ in batch:
            self._pending.popleft()
            self._arrived.popleft()
        if len(self._pending) <= self._max_pending // 2:
            self._room.set()
        if ids is not None:
            tracked = {sid: t for sid, t in tallies.items() if sid in self._tallies}
            self._tallies.update(tracked)
            self._dirty.update(tracked)
            self._written(due)
            await self._publish(batch, ids)
        self.batches_written += -(-len(batch) // self._batch_size)
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

    def _due_tallies(
        self, fresh: dict[uuid.UUID, SessionTally], *, everything: bool = False
    ) -> dict[uuid.UUID, SessionTally]:
        """The totals to write now: changed ones not written for `tally_interval` (a new
        session's at once), or every changed one."""
        now = clock.monotonic()
        due: dict[uuid.UUID, SessionTally] = {}
        for session_id in self._dirty | fresh.keys():
            tally = fresh.get(session_id) or self._tallies.get(session_id)
            if tally is None or session_id not in self._tallies:
                continue
            last = self._tally_at.get(session_id)
            if everything or last is None or now - last >= self._tally_interval:
                due[session_id] = tally
        return due

    def _written(self, due: dict[uuid.UUID, SessionTally]) -> None:
        now = clock.monotonic()
        for session_id, tally in due.items():
            self._tally_at[session_id] = now
            if self._tallies.get(session_id) is tally:
                self._dirty.discard(session_id)

    async def _insert(
        self, batch: list[Pending], tallies: dict[uuid.UUID, SessionTally]
    ) -> list[int]:
        conn = await self._connection()
        try:
            async with conn.begin():
                ids = []
                for start in range(0, len(batch), self._batch_size):
                    chunk = batch[start : start + self._batch_size]
                    ids += await insert_returning_ids(conn, chunk)
                await _update_sessions(conn, tallies)
        except Exception:
            await self._disconnect()  # a broken connection is replaced on the retry
            raise
        return ids

    async def _connection(self) -> AsyncConnection:
        if self._conn is None:
            conn = await self._engine.connect()
            if self._engine.dialect.name == "sqlite":
                # Checkpoints (which fsync) run beside the writer, not inside its commits;
                # with many streams every insert lands on a different index page, so the
                # writer keeps more pages in memory than SQLite's 2 MB default.
                await conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
                await conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_WRITER_CACHE_KB}")
                await conn.commit()
            self._conn = conn
        return self._conn

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with suppress(Exception):
            if self._engine.dialect.name == "sqlite":  # back to the pool as it came
                await conn.exec_driver_sql("PRAGMA wal_autocheckpoint=1000")
                await conn.exec_driver_sql("PRAGMA cache_size=-2000")
            await conn.close()

    async def _maintain(self) -> None:
        """Every tally interval: totals of sessions that went quiet, and on SQLite a WAL
        checkpoint from another connection, so the writer's commits never stall on one
        (PASSIVE never blocks the writer)."""
        while True:
            await asyncio.sleep(self._tally_interval)
            try:
                await self.write_tallies()
                if self._engine.dialect.name == "sqlite":
                    async with self._engine.connect() as conn:
                        await conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception as exc:
                log.debug("writer maintenance skipped", error=str(exc))

    async def _publish(self, batch: list[Pending], ids: list[int]) -> None:
        if self._on_stored is None:
            return
        by_session: dict[uuid.UUID, list[dict[str, Any]]] = {}
        for (session_id, record), event_id in zip(batch, ids, strict=True):
            if self._wants is not None and not self._wants(session_id):
                continue
            row = record.row(session_id)
            by_session.setdefault(session_id, []).append(public_event(event_id, row))
        for session_id, events in by_session.items():
            try:
                await self._on_stored(session_id, events)
            except Exception as exc:  # subscribers re-read the database; storage goes on
                log.error("publishing events failed", session=str(session_id), error=str(exc))


SQLITE_WRITER_CACHE_KB = 64 * 1024
# SQLite binds at most 32766 parameters per statement; one batch must fit in one INSERT.
SQLITE_MAX_PARAMETERS = 32_766


def max_batch_rows(dialect: str) -> int:
    return SQLITE_MAX_PARAMETERS // len(EVENTS.c) if dialect == "sqlite" else 10_000


async def insert_returning_ids(conn: AsyncConnection, batch: list[Pending]) -> list[int]:
    """One multi-row INSERT; the ids in the order of `batch`.

    PostgreSQL: `INSERT ... RETURNING id`, SQLAlchemy orders the RETURNING rows by a
    sentinel (INSERT ... SELECT ... ORDER BY). SQLite: no RETURNING (its rows cost about
    0.7 µs per event to produce and read back). An INTEGER PRIMARY KEY without AUTOINCREMENT
    gets max(rowid) + 1 for each row in VALUES order, and one statement holds the database's
    single write lock from its first row to its last, so no other connection or process
    can insert between them: the ids are the `len(batch)` integers ending at the statement's
    last rowid. SQLite falls back to random rowids only once the largest possible rowid is
    taken; that is refused rather than mis-paired."""
    if not batch:
        return []
    if conn.dialect.name == "sqlite":
        result = await conn.exec_driver_sql(_sqlite_insert(len(batch)), _sqlite_values(batch))
        last = result.lastrowid
        if last is None or last >= _SQLITE_MAX_ROWID - len(batch):
            raise RuntimeError("SQLite event ids are near the largest rowid")
        return list(range(last - len(batch) + 1, last + 1))
    rows = [record.row(session_id) for session_id, record in batch]
    statement = insert(EVENTS).returning(EVENTS.c.id, sort_by_parameter_order=True)
    options = {"insertmanyvalues_page_size": len(rows)}
    result = await conn.execute(statement, rows, execution_options=options)
    return [row[0] for row in result]


# SQLite's hot path skips SQLAlchemy's per-value processing (a third of the write cost) and
# binds what SQLAlchemy would have stored: UUIDs as 32 hex digits, datetimes as
# 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC), JSON as text. Rows read back through the models.
_ROW_COLUMNS = (
    "session_id",
    "type",
    "msg_id",
    "user_id",
    "unique_id",
    "nickname",
    "message",
    "gift_id",
    "gift_name",
    "diamonds",
    "gift_count",
    "repeat_count",
    "like_count",
    "viewer_count",
    "created_at",
    "raw",
    "data",
)


@lru_cache(maxsize=16)
def _sqlite_insert(count: int) -> str:
    one = "(" + ",".join("?" * len(_ROW_COLUMNS)) + ")"
    columns = ", ".join(_ROW_COLUMNS)
    values = ",".join([one] * count)
    # Only constant column names and placeholders: nothing from outside reaches the SQL.
    return f"INSERT INTO live_events ({columns}) VALUES {values}"  # noqa: S608


_SQLITE_MAX_ROWID = 2**63 - 1


def _sqlite_values(batch: list[Pending]) -> tuple[Any, ...]:
    values: list[Any] = []
    extend, to_text = values.extend, _sqlite_datetime
    session: uuid.UUID | None = None
    session_hex = ""
    for session_id, r in batch:
        if session_id is not session:  # events come in runs per stream: hex once per run
            session, session_hex = session_id, session_id.hex
        extend(
            (
                session_hex,
                r.type,
                r.msg_id,
                r.user_id,
                r.unique_id,
                r.nickname,
                r.message,
                r.gift_id,
                r.gift_name,
                r.diamonds,
                r.gift_count,
                r.repeat_count,
                r.like_count,
                r.viewer_count,
                to_text(r.created_at),
                r.raw,
                json_text(r.data) if r.source is None else r.source.to_json(),
            )
        )
    return tuple(values)


# The last whole second converted and its text: isoformat() with a timespec costs 0.7 µs,
# most of an event's binding, and events of one second share it.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_last_second: list[tuple[datetime, str]] = [(_EPOCH, "1970-01-01 00:00:00")]


def _sqlite_datetime(value: datetime) -> str:
    """'YYYY-MM-DD HH:MM:SS.ffffff' in UTC, as SQLAlchemy stores a DATETIME on SQLite."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    second, text = _last_second[0]
    since = value - second
    if since.days or since.seconds:  # not within the cached second
        second = value.replace(microsecond=0)
        text = second.isoformat(" ")[:19]
        _last_second[0] = (second, text)  # one assignment: a pair always consistent
    return f"{text}.{value.microsecond:06d}"


async def recount(conn: AsyncConnection, session_id: uuid.UUID) -> SessionTally:
    """A session's totals from its stored events (after a crash the row may lag)."""
    where = EVENTS.c.session_id == session_id
    by_type = await conn.execute(
        select(EVENTS.c.type, func.count()).where(where).group_by(EVENTS.c.type)
    )
    sums = (
        await conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(EVENTS.c.like_count), 0),
                func.coalesce(func.sum(EVENTS.c.diamonds), 0),
                func.coalesce(func.max(EVENTS.c.viewer_count), 0),
            ).where(where)
        )
    ).one()
    current = await conn.scalar(
        select(EVENTS.c.viewer_count)
        .where(where, EVENTS.c.viewer_count.is_not(None))
        .order_by(EVENTS.c.id.desc())
        .limit(1)
    )
    return SessionTally(
        counters={kind: int(n) for kind, n in by_type.all()},
        total_events=int(sums[0]),
        total_likes=int(sums[1]),
        total_diamonds=int(sums[2]),
        peak_viewers=int(sums[3]),
        current_viewers=int(current or 0),
    )


_TALLY_COLUMNS = (
    "counters",
    "total_events",
    "total_likes",
    "total_diamonds",
    "peak_viewers",
    "current_viewers",
    "heartbeat_at",
    "updated_at",
)
# One statement for every session a batch touched (executemany), not one UPDATE each:
# with 1,000 streams a batch touches hundreds of sessions.
_UPDATE_TALLIES = (
    update(SESSIONS)
    .where(SESSIONS.c.id == bindparam("t_id"))
    .values({name: bindparam(f"t_{name}") for name in _TALLY_COLUMNS})
)


# SQLite: the same UPDATE bound by hand like the events' INSERT (ids as 32 hex digits, UTC
# datetimes as text, JSON as text); SQLAlchemy's per-row processing cost more than SQLite's
# work with a thousand sessions. Only constant names and placeholders in the SQL.
_SQLITE_UPDATE_TALLIES = (
    "UPDATE live_sessions SET "  # noqa: S608
    + ", ".join(f"{name} = ?" for name in _TALLY_COLUMNS)
    + " WHERE id = ?"
)


async def _update_sessions(conn: AsyncConnection, tallies: dict[uuid.UUID, SessionTally]) -> None:
    if not tallies:
        return
    now = utcnow()
    if conn.dialect.name == "sqlite":
        stamp = _sqlite_datetime(now)
        rows = [
            (
                json_text(t.counters),
                t.total_events,
                t.total_likes,
                t.total_diamonds,
                t.peak_viewers,
                t.current_viewers,
                stamp,
                stamp,
                session_id.hex,
            )
            for session_id, t in tallies.items()
        ]
        await conn.exec_driver_sql(_SQLITE_UPDATE_TALLIES, rows)
        return
    params = []
    for session_id, tally in tallies.items():
        values = {**tally.values(), "heartbeat_at": now, "updated_at": now}
        params.append({"t_id": session_id, **{f"t_{k}": v for k, v in values.items()}})
    if params:
        await conn.execute(_UPDATE_TALLIES, params)


# -- typed events -> records ------------------------------------------------------------------


class _Recent:
    """A bounded memory of keys (message ids, gift streaks)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self.items: OrderedDict[Any, int] = OrderedDict()

    def get(self, key: Any) -> int | None:
        return self.items.get(key)

    def put(self, key: Any, value: int = 0) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        if len(self.items) > self._size:
            self.items.popitem(last=False)


class EventMapper:
    """Typed events -> stored records for one capture: drops repeated messages and counts
    each gift streak once (every event stores only the diamonds and items it adds).
    `memory` bounds what it remembers per capture (the LIVE client dedups too), so a
    thousand captures do not each hold tens of thousands of ids."""

    def __init__(self, *, store_raw: bool = True, memory: int = 512) -> None:
        self._store_raw = store_raw
        self._seen = _Recent(memory)
        self._seen_size = memory
        self._streaks = _Recent(memory)

    def record(self, event: LiveEvent) -> EventRecord | None:
        msg_id = event.msg_id
        if msg_id:
            seen = self._seen.items
            if msg_id in seen:
                return None
            seen[msg_id] = 0  # a new key: at the end already
            if len(seen) > self._seen_size:
                seen.popitem(last=False)
        user = event.user
        if user is None:
            user_id = unique_id = nickname = None
        else:
            user_id = str(user.user_id) if user.user_id else None
            unique_id, nickname = user.unique_id or None, user.nickname or None
        record = EventRecord(
            type=event.type,
            created_at=_event_time(event.create_time),
            msg_id=msg_id or None,
            user_id=user_id,
            unique_id=unique_id,
            nickname=nickname,
            message=_message(event),
            raw=(event.raw or None) if self._store_raw else None,
            source=event,  # its JSON is rendered when stored (and published)
        )
        if event.type in _AMOUNT_TYPES:
            self._add_amounts(event, record)
        return record

    def _add_amounts(self, event: LiveEvent, record: EventRecord) -> None:
        match event.type:
            case "gift":
                assert isinstance(event, GiftEvent)
                items = self._gift_items(event)
                record.gift_id = event.gift_id or None
                record.gift_name = event.gift.name if event.gift is not None else None
                record.repeat_count = event.repeat_count
                record.gift_count = items
                record.diamonds = items * event.diamond_count
            case "like":
                record.like_count = max(0, getattr(event, "count", 0))
            case "room_user":
                record.viewer_count = max(0, getattr(event, "viewer_count", 0))

    def _gift_items(self, event: GiftEvent) -> int:
        if not event.streakable:
            return max(event.repeat_count, 1)
        user_id = event.user.user_id if event.user is not None else 0
        key = (event.group_id, user_id, event.gift_id)
        counted = self._streaks.get(key) or 0
        if event.repeat_count > counted:
            self._streaks.put(key, event.repeat_count)
        return max(0, event.repeat_count - counted)


_AMOUNT_TYPES = frozenset({"gift", "like", "room_user"})


def _event_time(create_time_ms: int) -> datetime:
    if create_time_ms > 0:
        return datetime.fromtimestamp(create_time_ms / 1000, UTC)
    return utcnow()


_MESSAGE_ATTRIBUTES = {
    "chat": "content",
    "question": "content",
    "caption": "text",
    "poll": "title",
    "goal": "description",
    "control": "tips",
}


def _message(event: LiveEvent) -> str | None:
    name = _MESSAGE_ATTRIBUTES.get(event.type)
    value = getattr(event, name, None) if name else None
    return value or None
