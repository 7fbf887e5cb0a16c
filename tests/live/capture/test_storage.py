"""The batched writer: by size, by time, one INSERT ... RETURNING per batch, durable before
published, counters in the same transaction, back-pressure and retry."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from allin.live.models import LiveEventRow, LiveSession
from allin.live.storage import EventRecord, EventWriter, SessionTally, recount
from tests.live.capture.support import eventually


def record(i: int, type_: str = "chat", **values: Any) -> EventRecord:
    return EventRecord(
        type=type_,
        created_at=datetime(2025, 11, 24, 16, 0, i % 60, tzinfo=UTC),
        msg_id=1_000_000_000_000 + i,
        user_id=str(6_000_000_000_000_000_000 + i % 7),
        unique_id=f"viewer_{i % 7:03d}",
        nickname=f"Viewer {i % 7}",
        message=f"message {i}",
        raw=b"\x0a\x02hi" + bytes([i % 256]),
        data={"n": i},
        **values,
    )


async def count_events(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(LiveEventRow))).scalar_one()
        )


@pytest.fixture
async def published() -> list[tuple[uuid.UUID, list[dict[str, Any]]]]:
    return []


async def test_batches_by_size_with_one_statement_each(
    engine: AsyncEngine, session_row: LiveSession
) -> None:
    statements: list[str] = []

    def on_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO LIVE_EVENTS"):
            statements.append(statement)

    from sqlalchemy import event

    event.listen(engine.sync_engine, "before_cursor_execute", on_execute)
    writer = EventWriter(engine, batch_size=10, flush_interval=30)
    writer.track(session_row.id, SessionTally())
    writer.start()
    try:
        for i in range(25):
            await writer.submit(session_row.id, record(i))
        await eventually(lambda: writer.batches_written == 2)
        assert await count_events(engine) == 20  # the last 5 wait for a full batch or the clock
        await writer.flush()
        assert await count_events(engine) == 25
        assert writer.batches_written == 3
        assert len(statements) == 3
        # PostgreSQL reads the ids back; SQLite derives them from the statement's last rowid.
        returning = engine.dialect.name != "sqlite"
        assert all(("RETURNING" in s.upper()) == returning for s in statements)
    finally:
        await writer.close()
        event.remove(engine.sync_engine, "before_cursor_execute", on_execute)


async def test_full_batches_waiting_share_one_transaction(
    engine: AsyncEngine, session_row: LiveSession
) -> None:
    """A writer behind by several full batches commits them together (one INSERT each);
    the rest waits for its clock as before."""
    inserts: list[str] = []
    commits: list[int] = []

    def on_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO LIVE_EVENTS"):
            inserts.append(statement)

    def on_commit(conn: Any) -> None:
        commits.append(len(inserts))

    from sqlalchemy import event

    event.listen(engine.sync_engine, "before_cursor_execute", on_execute)
    event.listen(engine.sync_engine, "commit", on_commit)
    writer = EventWriter(engine, batch_size=10, flush_interval=30, group=2)
    writer.track(session_row.id, SessionTally())
    try:
        for i in range(35):
            await writer.submit(session_row.id, record(i))
        writer.start()
        await eventually(lambda: writer.batches_written == 3)
        assert await count_events(engine) == 30
        assert [n for n in commits if n] == [2, 3]  # two batches, then the third alone
        await writer.flush()
        assert await count_events(engine) == 35
        assert len(inserts) == 4
    finally:
        await writer.close()
        event.remove(engine.sync_engine, "before_cursor_execute", on_execute)
        event.remove(engine.sync_engine, "commit", on_commit)


async def test_a_failed_group_is_retried_batch_by_batch(
    engine: AsyncEngine, session_row: LiveSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = EventWriter(engine, batch_size=10, flush_interval=0.01, retry_delay=0.01)
    writer.track(session_row.id, SessionTally())
    real_insert = writer._insert
    sizes: list[int] = []

    async def no_groups(batch: list[Any], *args: Any) -> list[int]:
        sizes.append(len(batch))
        if len(batch) > 10:
            raise ConnectionError("too much at once")
        return await real_insert(batch, *args)

    monkeypatch.setattr(writer, "_insert", no_groups)
    for i in range(30):
        await writer.submit(session_row.id, record(i))
    writer.start()
    try:
        await writer.flush()
    finally:
        await writer.close()
    assert await count_events(engine) == 30
    assert sizes[0] == 30 and sizes[1] == 10


async def test_flushes_by_time(engine: AsyncEngine, session_row: LiveSession) -> None:
    writer = EventWriter(engine, batch_size=1000, flush_interval=0.05)
    writer.track(session_row.id, SessionTally())
    writer.start()
    try:
        for i in range(3):
            await writer.submit(session_row.id, record(i))
        await eventually(lambda: writer.batches_written == 1, within=2)
        assert await count_events(engine) == 3
    finally:
        await writer.close()


async def test_events_arriving_during_a_write_wait_only_their_interval(
    engine: AsyncEngine, session_row: LiveSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flush clock runs from each event's arrival, not from the end of the previous
    write: an event that came in during a slow write goes out as soon as that ends."""
    writer = EventWriter(engine, batch_size=1000, flush_interval=0.5)
    writer.track(session_row.id, SessionTally())
    real_insert = writer._insert
    stored_at: list[float] = []
    loop = asyncio.get_running_loop()

    async def slow_first(batch: list[Any], *args: Any) -> list[int]:
        if not stored_at:
            await asyncio.sleep(0.8)
        ids = await real_insert(batch, *args)
        stored_at.extend(loop.time() for _ in batch)
        return ids

    monkeypatch.setattr(writer, "_insert", slow_first)
    writer.start()
    try:
        start = loop.time()
        await writer.submit(session_row.id, record(1))  # written from about 0.5 s to 1.3 s
        await asyncio.sleep(0.6)
        await writer.submit(session_row.id, record(2))  # due at about 1.1 s
        await eventually(lambda: len(stored_at) == 2, within=5)
        assert stored_at[1] - start < 1.6  # not 1.3 s + another 0.5 s
    finally:
        await writer.close()


async def test_published_only_after_commit_with_database_ids(
    engine: AsyncEngine, session_row: LiveSession
) -> None:
    seen: list[dict[str, Any]] = []

    async def on_stored(session_id: uuid.UUID, events: list[dict[str, Any]]) -> None:
        # Durable before acknowledged: another connection already sees every event.
        async with engine.connect() as conn:
            ids = set((await conn.execute(select(LiveEventRow.id))).scalars())
        assert {e["id"] for e in events} <= ids
        assert session_id == session_row.id
        seen.extend(events)

    writer = EventWriter(engine, batch_size=7, flush_interval=0.01, on_stored=on_stored)
    writer.track(session_row.id, SessionTally())
    writer.start()
    try:
        for i in range(30):
            await writer.submit(session_row.id, record(i))
        await writer.flush()
    finally:
        await writer.close()
    assert [e["data"]["n"] for e in seen] == list(range(30))
    ids = [e["id"] for e in seen]
    assert ids == sorted(ids) and len(set(ids)) == 30
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(LiveEventRow.id, LiveEventRow.message).order_by(LiveEventRow.id)
            )
        ).all()
    assert [(r.id, r.message) for r in rows] == [(e["id"], e["message"]) for e in seen]
    first = seen[0]
    assert first["msg_id"] == "1000000000000" and first["session_id"] == str(session_row.id)
    assert first["timestamp"].startswith("2025-11-24T16:00:00")


async def test_session_counters_are_written_with_the_events(
    engine: AsyncEngine, factory: async_sessionmaker[AsyncSession], session_row: LiveSession
) -> None:
    writer = EventWriter(engine, batch_size=100, flush_interval=0.01)
    writer.track(session_row.id, SessionTally(counters={"chat": 2}, total_events=2))
    writer.start()
    try:
        await writer.submit(session_row.id, record(1))
        await writer.submit(session_row.id, record(2, "like", like_count=15))
        await writer.submit(session_row.id, record(3, "gift", diamonds=30, gift_count=3))
        await writer.submit(session_row.id, record(4, "room_user", viewer_count=900))
        await writer.submit(session_row.id, record(5, "room_user", viewer_count=700))
        await writer.flush()
    finally:
        await writer.close()
    async with factory() as db:
        row = await db.get(LiveSession, session_row.id)
    assert row is not None
    assert row.counters == {"chat": 3, "like": 1, "gift": 1, "room_user": 2}
    assert row.total_events == 7  # continues from the tally it was given (a resumed session)
    assert (row.total_likes, row.total_diamonds) == (15, 30)
    assert (row.peak_viewers, row.current_viewers) == (900, 700)
    assert row.heartbeat_at is not None


async def test_back_pressure_waits_for_the_writer(
    engine: AsyncEngine, session_row: LiveSession
) -> None:
    writer = EventWriter(engine, batch_size=3, flush_interval=0.01, max_pending=5)
    writer.track(session_row.id, SessionTally())
    for i in range(5):
        await writer.submit(session_row.id, record(i))
    blocked = asyncio.create_task(writer.submit(session_row.id, record(5)))
    await asyncio.sleep(0.05)
    assert not blocked.done() and writer.pending == 5
    writer.start()
    try:
        await asyncio.wait_for(blocked, 5)
        await writer.flush()
        assert await count_events(engine) == 6
    finally:
        await writer.close()


async def test_failed_batch_is_retried_not_lost_or_duplicated(
    engine: AsyncEngine, session_row: LiveSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = EventWriter(engine, batch_size=10, flush_interval=0.01, retry_delay=0.01)
    writer.track(session_row.id, SessionTally())
    real_insert = writer._insert
    failures = iter([True, True, False])

    async def flaky(*args: Any) -> list[int]:
        if next(failures, False):
            raise ConnectionError("database went away")
        return await real_insert(*args)

    monkeypatch.setattr(writer, "_insert", flaky)
    writer.start()
    try:
        for i in range(4):
            await writer.submit(session_row.id, record(i))
        await writer.flush()
    finally:
        await writer.close()
    assert await count_events(engine) == 4


async def test_untracked_session_is_refused(engine: AsyncEngine) -> None:
    writer = EventWriter(engine)
    with pytest.raises(KeyError):
        await writer.submit(uuid.uuid4(), record(1))


async def test_close_writes_what_was_accepted(
    engine: AsyncEngine, session_row: LiveSession
) -> None:
    writer = EventWriter(engine, batch_size=1000, flush_interval=60)
    writer.track(session_row.id, SessionTally())
    writer.start()
    for i in range(12):
        await writer.submit(session_row.id, record(i))
    await writer.close()
    assert await count_events(engine) == 12


async def test_totals_are_written_at_most_every_interval_and_on_flush(
    engine: AsyncEngine, factory: async_sessionmaker[AsyncSession], session_row: LiveSession
) -> None:
    writer = EventWriter(engine, batch_size=1, flush_interval=0.01, tally_interval=30)
    writer.track(session_row.id, SessionTally())
    writer.start()

    async def stored_total() -> int:
        async with factory() as db:
            row = await db.get(LiveSession, session_row.id)
            assert row is not None
            await db.refresh(row)
            return row.total_events

    try:
        await writer.submit(session_row.id, record(1))
        await eventually(lambda: writer.batches_written == 1)
        assert await stored_total() == 1  # a session's first totals go out at once
        for i in range(2, 6):
            await writer.submit(session_row.id, record(i))
        await eventually(lambda: writer.batches_written == 5)
        assert await stored_total() == 1  # then at most every 30 s here ...
        await writer.flush()
        assert await stored_total() == 5  # ... or on flush
    finally:
        await writer.close()


async def test_recount_rebuilds_totals_from_the_events(
    engine: AsyncEngine, session_row: LiveSession
) -> None:
    writer = EventWriter(engine, batch_size=100, flush_interval=0.01)
    writer.track(session_row.id, SessionTally())
    writer.start()
    try:
        await writer.submit(session_row.id, record(1))
        await writer.submit(session_row.id, record(2, "like", like_count=7))
        await writer.submit(session_row.id, record(3, "gift", diamonds=5, gift_count=5))
        await writer.submit(session_row.id, record(4, "room_user", viewer_count=90))
        await writer.submit(session_row.id, record(5, "room_user", viewer_count=40))
        await writer.flush()
        expected = writer.tally(session_row.id)
    finally:
        await writer.close()
    async with engine.connect() as conn:
        assert await recount(conn, session_row.id) == expected
