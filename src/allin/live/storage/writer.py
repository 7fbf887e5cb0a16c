"""The batched, durable event writer.

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
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from contextlib import suppress
from itertools import islice
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from allin.core.clock import clock
from allin.core.logging import Category, get_logger
from allin.live.storage.records import EventRecord, SessionTally, public_event
from allin.live.storage.sql import (
    SQLITE_WRITER_CACHE_KB,
    Pending,
    insert_returning_ids,
    max_batch_rows,
    update_sessions,
)

log = get_logger(Category.LIVE)


StoredCallback = Callable[[uuid.UUID, list[dict[str, Any]]], Awaitable[None]]


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
                    await update_sessions(conn, due)
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
                await update_sessions(conn, tallies)
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
