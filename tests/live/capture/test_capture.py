"""The capture manager: sessions from start to end, errors, reconnects, shutdown and resume."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from allin.core.clock import utcnow
from allin.live.capture import (
    AlreadyCapturingError,
    CaptureConfig,
    CaptureLimitError,
    CaptureManager,
    StreamerNotFoundError,
    StreamerOfflineError,
)
from allin.live.hub import LocalHub, StatusChange
from allin.live.models import LiveEventRow, LiveSession, Streamer
from allin.live.storage import EventWriter
from tests.live.capture.support import (
    FakeSources,
    chat,
    create_user,
    eventually,
    gift,
    like,
    stream_end,
    viewers,
)

Factory = async_sessionmaker[AsyncSession]


class Harness:
    """A writer + hub + manager on one database, like one API process."""

    def __init__(
        self, engine: AsyncEngine, factory: Factory, sources: FakeSources, **config: float
    ) -> None:
        self.hub = LocalHub()
        self.writer = EventWriter(
            engine, batch_size=50, flush_interval=0.01, on_stored=self.hub.publish
        )
        defaults = {"reconnect_delay": 0.01, "heartbeat_interval": 60.0, "stale_after": 30.0}
        defaults.update(config)
        self.manager = CaptureManager(
            session_factory=factory,
            writer=self.writer,
            hub=self.hub,
            sources=sources,
            config=CaptureConfig(**defaults),  # type: ignore[arg-type]
        )
        self.writer.start()

    async def close(self) -> None:
        await self.manager.shutdown()
        await self.writer.close()


@pytest.fixture
async def make_harness(
    engine: AsyncEngine, factory: Factory, sources: FakeSources
) -> AsyncIterator[Callable[..., Harness]]:
    made: list[Harness] = []

    def make(**config: float) -> Harness:
        harness = Harness(engine, factory, sources, **config)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        await harness.close()


@pytest.fixture
async def harness(make_harness: Callable[..., Harness]) -> Harness:
    return make_harness()


async def load(factory: Factory, session_id: uuid.UUID) -> LiveSession:
    async with factory() as db:
        session = await db.get(LiveSession, session_id)
        assert session is not None
        return session


async def event_count(factory: Factory, session_id: uuid.UUID) -> int:
    async with factory() as db:
        statement = select(func.count()).where(LiveEventRow.session_id == session_id)
        return int((await db.execute(statement)).scalar_one())


async def test_capture_stores_events_and_closes_on_stream_end(
    harness: Harness, sources: FakeSources, factory: Factory, owner: uuid.UUID
) -> None:
    session = await harness.manager.start(owner, "demo_streamer")
    assert session.status == "active" and session.room_id == "7400000000000000001"
    assert session.streamer_info["display_name"] == "Demo_Streamer"
    async with harness.hub.subscription(session.id) as sub:
        source = sources.source("demo_streamer")
        source.push(chat(1, "hi"), gift(2, repeat=3), like(3, 10), viewers(55), stream_end(3))
        events: list[dict[str, object]] = []
        while not isinstance(item := await asyncio.wait_for(sub.get(), 5), StatusChange):
            events.extend(item)
    assert [e["type"] for e in events] == ["chat", "gift", "like", "room_user", "control"]
    assert item == StatusChange("ended", "ended_by_host")
    assert not harness.manager.capturing(session.id)
    stored = await load(factory, session.id)
    assert (stored.status, stored.end_reason) == ("ended", "ended_by_host")
    assert stored.ended_at is not None
    assert stored.counters == {"chat": 1, "gift": 1, "like": 1, "room_user": 1, "control": 1}
    assert (stored.total_diamonds, stored.total_likes, stored.peak_viewers) == (3, 10, 55)
    assert source.closed
    async with factory() as db:
        streamer = await db.get(Streamer, "demo_streamer")
    assert streamer is not None and streamer.total_sessions == 1 and streamer.follower_count == 1234


async def test_offline_and_unknown_streamers_are_clear_errors(
    harness: Harness, factory: Factory, owner: uuid.UUID
) -> None:
    with pytest.raises(StreamerOfflineError) as offline:
        await harness.manager.start(owner, "sleepy_streamer")
    assert offline.value.code == "LIVE_USER_OFFLINE" and offline.value.status_code == 409
    with pytest.raises(StreamerNotFoundError) as missing:
        await harness.manager.start(owner, "nobody_here")
    assert missing.value.code == "LIVE_USER_NOT_FOUND" and missing.value.status_code == 404
    async with factory() as db:
        assert (await db.execute(select(func.count()).select_from(LiveSession))).scalar_one() == 0
    # A failed start leaves no reservation behind.
    assert harness.manager.session_for(owner, "sleepy_streamer") is None


async def test_one_capture_per_streamer_per_owner(
    harness: Harness, factory: Factory, owner: uuid.UUID
) -> None:
    first = await harness.manager.start(owner, "demo_streamer")
    with pytest.raises(AlreadyCapturingError) as error:
        await harness.manager.start(owner, "demo_streamer")
    assert error.value.details == {"session_id": str(first.id)}
    someone_else = await create_user(factory)
    second = await harness.manager.start(someone_else, "demo_streamer")
    assert second.id != first.id and harness.manager.active_count == 2


async def test_stop_ends_the_session_after_storing_its_events(
    harness: Harness, sources: FakeSources, factory: Factory, owner: uuid.UUID
) -> None:
    session = await harness.manager.start(owner, "demo_streamer")
    sources.source("demo_streamer").push(*(chat(i, f"m{i}") for i in range(20)))
    await eventually(lambda: sources.source("demo_streamer")._queue.empty())
    assert await harness.manager.stop(session.id)
    stored = await load(factory, session.id)
    assert (stored.status, stored.end_reason) == ("ended", "stopped_by_user")
    assert await event_count(factory, session.id) == stored.total_events == 20
    assert not await harness.manager.stop(session.id)  # already stopped


async def test_source_ending_without_control_message(
    harness: Harness, sources: FakeSources, factory: Factory, owner: uuid.UUID
) -> None:
    session = await harness.manager.start(owner, "demo_streamer")
    sources.source("demo_streamer").end()
    await eventually(lambda: not harness.manager.capturing(session.id))
    assert (await load(factory, session.id)).end_reason == "stream_ended"


async def test_failed_source_reconnects_into_the_same_session(
    harness: Harness, sources: FakeSources, factory: Factory, owner: uuid.UUID
) -> None:
    session = await harness.manager.start(owner, "demo_streamer")
    first = sources.source("demo_streamer")
    first.push(chat(1, "before"))
    first.fail(ConnectionResetError("socket closed"))
    await eventually(lambda: len(sources.opened["demo_streamer"]) == 2)
    assert first.closed
    sources.source("demo_streamer").push(chat(2, "after"), stream_end())
    await eventually(lambda: not harness.manager.capturing(session.id))
    stored = await load(factory, session.id)
    assert stored.end_reason == "ended_by_host" and stored.counters["chat"] == 2


async def test_source_failing_repeatedly_ends_with_error(
    make_harness: Callable[..., Harness], sources: FakeSources, factory: Factory, owner: uuid.UUID
) -> None:
    harness = make_harness(reconnect_attempts=1)
    session = await harness.manager.start(owner, "demo_streamer")
    sources.source("demo_streamer").fail(ConnectionResetError("1"))
    await eventually(lambda: len(sources.opened["demo_streamer"]) == 2)
    sources.source("demo_streamer").fail(ConnectionResetError("2"))
    await eventually(lambda: not harness.manager.capturing(session.id))
    assert (await load(factory, session.id)).end_reason == "error"


async def test_reconnect_finding_the_streamer_offline_ends_normally(
    harness: Harness, sources: FakeSources, factory: Factory, owner: uuid.UUID
) -> None:
    session = await harness.manager.start(owner, "demo_streamer")
    sources.live.discard("demo_streamer")
    sources.source("demo_streamer").fail(ConnectionResetError("gone"))
    await eventually(lambda: not harness.manager.capturing(session.id))
    assert (await load(factory, session.id)).end_reason == "stream_ended"


async def test_capture_limit(make_harness: Callable[..., Harness], owner: uuid.UUID) -> None:
    harness = make_harness(max_captures=1)
    await harness.manager.start(owner, "demo_streamer")
    with pytest.raises(CaptureLimitError):
        await harness.manager.start(owner, "other_streamer")


async def test_shutdown_interrupts_and_the_next_process_resumes(
    make_harness: Callable[..., Harness], sources: FakeSources, factory: Factory, owner: uuid.UUID
) -> None:
    first = make_harness()
    session = await first.manager.start(owner, "demo_streamer")
    sources.source("demo_streamer").push(*(chat(i, "x") for i in range(7)), like(1, 5))
    await eventually(lambda: sources.source("demo_streamer")._queue.empty())
    await first.manager.shutdown()
    stored = await load(factory, session.id)
    assert (stored.status, stored.end_reason) == ("interrupted", "shutdown")
    assert await event_count(factory, session.id) == 8 == stored.total_events

    # As after a crash, the row's totals lag the stored events: resume recounts them.
    async with factory() as db:
        await db.execute(update(LiveSession).values(total_events=1, counters={"chat": 1}))
        await db.commit()
    second = make_harness()
    assert await second.manager.resume() == [session.id]
    resumed = await load(factory, session.id)
    assert (resumed.status, resumed.resume_count) == ("active", 1)
    assert resumed.capture_node == second.manager.node_id
    sources.source("demo_streamer").push(chat(99, "after restart"), stream_end())
    await eventually(lambda: not second.manager.capturing(session.id))
    final = await load(factory, session.id)
    assert final.total_events == 10 and final.counters == {"chat": 8, "like": 1, "control": 1}
    assert final.total_likes == 5


async def test_sessions_of_a_dead_node_are_resumed_once_stale(
    make_harness: Callable[..., Harness], sources: FakeSources, factory: Factory, owner: uuid.UUID
) -> None:
    dead = make_harness()
    session = await dead.manager.start(owner, "demo_streamer")
    # The process "dies": nothing is marked; only its heartbeat stops.
    alive = make_harness(stale_after=30.0)
    assert await alive.manager.resume() == []  # heartbeat still fresh: maybe it is alive
    assert (await load(factory, session.id)).status == "active"
    async with factory() as db:
        stale = utcnow() - timedelta(seconds=60)
        await db.execute(update(LiveSession).values(heartbeat_at=stale))
        await db.commit()
    assert await alive.manager.resume() == [session.id]
    assert (await load(factory, session.id)).capture_node == alive.manager.node_id


async def test_resume_of_an_offline_streamer_ends_the_session(
    make_harness: Callable[..., Harness], sources: FakeSources, factory: Factory, owner: uuid.UUID
) -> None:
    first = make_harness()
    session = await first.manager.start(owner, "demo_streamer")
    await first.manager.shutdown()
    sources.live.discard("demo_streamer")
    second = make_harness()
    assert await second.manager.resume() == []
    stored = await load(factory, session.id)
    assert (stored.status, stored.end_reason) == ("ended", "ended_while_down")


async def test_a_recorder_node_beats_for_its_own_sessions_and_adopts_none(
    make_harness: Callable[..., Harness], sources: FakeSources, factory: Factory, owner: uuid.UUID
) -> None:
    dead = make_harness()
    orphan = await dead.manager.start(owner, "demo_streamer")
    await dead.manager.shutdown()  # interrupted, resumable by the next server
    recorder = make_harness()
    await recorder.manager.start_background(adopt=False)
    own = await recorder.manager.start(owner, "other_streamer")
    async with factory() as db:
        await db.execute(update(LiveSession).values(heartbeat_at=utcnow() - timedelta(seconds=5)))
        await db.commit()
    await recorder.manager.beat()
    assert (await load(factory, orphan.id)).status == "interrupted"
    mine = await load(factory, own.id)
    assert mine.heartbeat_at is not None and utcnow() - mine.heartbeat_at < timedelta(seconds=2)
    server = make_harness()
    await server.manager.beat()  # a server adopts it
    assert (await load(factory, orphan.id)).capture_node == server.manager.node_id


async def test_wait_returns_once_the_session_is_ended_and_stored(
    harness: Harness, sources: FakeSources, factory: Factory, owner: uuid.UUID
) -> None:
    session = await harness.manager.start(owner, "demo_streamer")
    waiting = asyncio.create_task(harness.manager.wait(session.id))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    sources.source("demo_streamer").push(chat(1, "bye"), stream_end())
    await asyncio.wait_for(waiting, 5)
    stored = await load(factory, session.id)
    assert stored.status == "ended" and stored.total_events == 2
    await harness.manager.wait(session.id)  # finished: returns at once


async def test_session_ended_elsewhere_stops_the_capture_at_the_next_beat(
    harness: Harness, factory: Factory, owner: uuid.UUID
) -> None:
    session = await harness.manager.start(owner, "demo_streamer")
    async with factory() as db:
        await db.execute(update(LiveSession).values(status="ended", end_reason="stopped_by_user"))
        await db.commit()
    await harness.manager.beat()
    assert not harness.manager.capturing(session.id)


async def test_many_captures_in_one_process(
    harness: Harness, sources: FakeSources, factory: Factory, engine: AsyncEngine
) -> None:
    owners = [await create_user(factory) for _ in range(4)]
    names = [f"streamer_{i:03d}" for i in range(50)]
    sources.live.update(names)
    sessions = await asyncio.gather(
        *(harness.manager.start(owner, name) for owner in owners for name in names)
    )
    assert harness.manager.active_count == 200
    for name in names:
        for source in sources.opened[name]:
            source.push(chat(1, "a"), chat(2, "b"), stream_end())
    await eventually(lambda: harness.manager.active_count == 0, within=20)
    async with factory() as db:
        counts = dict(
            (
                await db.execute(
                    select(LiveEventRow.session_id, func.count()).group_by(LiveEventRow.session_id)
                )
            ).all()
        )
    assert len(counts) == 200 and set(counts.values()) == {3}
    assert {s.id for s in sessions} == set(counts)
