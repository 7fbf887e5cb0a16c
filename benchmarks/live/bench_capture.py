"""LIVE capture in one process: events stored per second, event -> SSE latency, memory per
stream, and a 1 M-event export, each as the number of simulated streams N grows.

    .venv/bin/python -m benchmarks.live.bench_capture
    BENCH_CAPTURE_EVENTS=200000 BENCH_EXPORT_EVENTS=1000000 BENCH_POSTGRES_URL=postgresql://...

Streams are the capture manager's real path (source -> EventMapper -> batched writer ->
database -> hub -> SSE); only TikTok is replaced by sources that yield decoded protocol
events (with their real webcast bytes as `raw`). CPU figures are process CPU seconds
(all threads), so they hold on a busy machine; wall figures are what a client sees.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from allin.app import create_app
from allin.auth.api_keys import create_api_key
from allin.auth.models import User
from allin.core.config import Settings
from allin.core.domain import app_state
from allin.core.gc import tune_gc
from allin.core.logging import configure_logging
from allin.db import migrate
from allin.db.engine import create_engine, create_session_factory
from allin.live.capture import OpenedStream, StreamerProfile
from allin.live.domain import LiveSources
from allin.live.export import ExportFormat, export_stream
from allin.live.hub import LocalHub
from allin.live.models import LiveSession, Streamer
from allin.live.protocol import (
    ChatEvent,
    EventUser,
    GiftEvent,
    GiftInfo,
    JoinEvent,
    LikeEvent,
    LiveEvent,
    RoomUserEvent,
    decode_message,
    encode_event,
)
from allin.live.service import LiveService
from allin.live.storage import EventMapper, EventWriter, SessionTally

EVENTS = int(os.environ.get("BENCH_CAPTURE_EVENTS", "200000"))
EXPORT_EVENTS = int(os.environ.get("BENCH_EXPORT_EVENTS", "1000000"))
POSTGRES = os.environ.get("BENCH_POSTGRES_URL")
LATENCY_SECONDS = float(os.environ.get("BENCH_LATENCY_SECONDS", "10"))
STREAM_RATE = float(os.environ.get("BENCH_STREAM_RATE", "7"))  # the simulator's default mix
_msg_ids = itertools.count(7_100_000_000_000_000_000)


# -- synthetic streams -------------------------------------------------------------------------


def _templates() -> list[LiveEvent]:
    """A realistic mix, each decoded from TikTok-shaped bytes (so `raw` is real)."""
    rose = GiftInfo(id=5655, name="Rose", diamond_count=1, type=1)
    events: list[LiveEvent] = []
    for n in range(40):
        user = EventUser(
            user_id=6_900_000_000_000_000_000 + n, unique_id=f"fan_{n}", nickname=f"Fan {n}"
        )
        events += [
            ChatEvent(user=user, content=f"hello from fan {n}, loving the stream!"),
            ChatEvent(user=user, content="who else is here from the replay?"),
            LikeEvent(user=user, count=5 + n % 10, total=1000 + n),
            LikeEvent(user=user, count=3, total=2000 + n),
            JoinEvent(user=user, action=1, member_count=500 + n),
        ]
        if n % 4 == 0:
            events.append(
                GiftEvent(user=user, gift_id=rose.id, gift=rose, repeat_count=1, group_id=n)
            )
        if n % 8 == 0:
            events.append(RoomUserEvent(viewer_count=300 + n, total_viewers=9000 + n))
    return [decode_message(*encode_event(e)) for e in events]


TEMPLATES = _templates()


class BenchSource:
    """`count` events as fast as the pipeline takes them (rate None), or a stream averaging
    `rate` events/s delivered as TikTok does: a push frame about every second carrying the
    messages of that second. The first event waits for `go`; `stamps` records when each
    msg_id was handed to the capture (the moment a client would have decoded it)."""

    def __init__(
        self,
        count: int | None,
        go: asyncio.Event,
        *,
        rate: float | None = None,
        stamps: dict[int, float] | None = None,
        hold: bool = False,
    ) -> None:
        self.count, self.go, self.rate, self.stamps = count, go, rate, stamps
        self.hold = hold  # stay connected after the last event (until closed)
        self.closed = False

    def _event(self, i: int) -> LiveEvent:
        msg_id = next(_msg_ids)
        template = TEMPLATES[i % len(TEMPLATES)]
        event = replace(template, msg_id=msg_id, create_time=int(time.time() * 1000))
        if self.stamps is not None:
            self.stamps[msg_id] = time.perf_counter()
        return event

    async def events(self) -> AsyncIterator[LiveEvent]:
        await self.go.wait()
        if self.rate:
            async for event in self._framed(self.rate):
                yield event
            return
        for i in range(self.count or 0):
            if self.closed:
                return
            yield self._event(i)
            if i % 64 == 63:
                await asyncio.sleep(0)  # share the loop between streams
        while self.hold and not self.closed:  # noqa: ASYNC110 - a connected, quiet stream
            await asyncio.sleep(0.1)

    async def _framed(self, rate: float) -> AsyncIterator[LiveEvent]:
        rng = random.Random()
        await asyncio.sleep(rng.uniform(0, 1))
        i = 0
        while not self.closed:
            for _ in range(_poisson(rng, rate)):
                yield self._event(i)
                i += 1
            await asyncio.sleep(rng.uniform(0.8, 1.2))

    async def close(self) -> None:
        self.closed = True


def _poisson(rng: random.Random, mean: float) -> int:
    count, total = 0, rng.expovariate(1.0)
    while total < mean:
        count += 1
        total += rng.expovariate(1.0)
    return count


class BenchSources:
    def __init__(self, make: Callable[[], BenchSource]) -> None:
        self.make = make

    async def open(self, username: str) -> OpenedStream:
        return OpenedStream(StreamerProfile(username=username), "7400000000000000001", self.make())

    async def live_status(self, usernames: list[str]) -> dict[str, bool]:
        return dict.fromkeys(usernames, True)


# -- plumbing ----------------------------------------------------------------------------------


def _settings(url: str, data_dir: Path, **live: Any) -> Settings:
    return Settings(
        _env_file=None,
        env="development",  # as deployed (e.g. the GC freeze at start-up)
        data_dir=data_dir,
        database_url=url,
        secret_key="benchmark-secret",  # noqa: S106 - a throw-away instance
        log_level="WARNING",
        password_hash_profile="test",  # noqa: S106 - a profile name
        rate_limit_enabled=False,
        live_resume_on_startup=False,
        live_max_captures=5_000,
        **live,
    )


@asynccontextmanager
async def _database(backend: str) -> AsyncIterator[tuple[str, Path]]:
    with tempfile.TemporaryDirectory(prefix="allin-bench-") as tmp:
        if backend == "sqlite":
            yield f"sqlite+aiosqlite:///{tmp}/bench.db", Path(tmp)
            return
        import asyncpg  # type: ignore[import-untyped]

        assert POSTGRES is not None
        name = f"allin_bench_{uuid.uuid4().hex[:8]}"
        admin = POSTGRES.replace("postgresql+asyncpg://", "postgresql://")
        conn = await asyncpg.connect(admin)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        try:
            yield (
                admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
                + f"/{name}",
                Path(tmp),
            )
        finally:
            conn = await asyncpg.connect(admin)
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()


async def _owner(engine: AsyncEngine) -> uuid.UUID:
    async with create_session_factory(engine)() as db:
        user = User(
            email=f"bench-{uuid.uuid4().hex[:6]}@example.com",
            password_hash="x",  # noqa: S106 - never signs in
            display_name="Bench",
            status="ACTIVE",
        )
        db.add(user)
        await db.commit()
        return user.id


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


class _PeakRss:
    """Samples RSS in a thread; `peak` is the highest value seen."""

    def __init__(self) -> None:
        self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_mb())

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def _all_stored(service: LiveService, ids: list[uuid.UUID], count: int) -> None:
    def done() -> bool:
        return all(
            (t := service.writer.tally(i)) is not None and t.total_events >= count for i in ids
        )

    while not done():  # noqa: ASYNC110 - polling counters
        await asyncio.sleep(0.05)


async def _wait_ended(service: LiveService) -> None:
    while service.captures.active_count:  # noqa: ASYNC110 - polling a counter
        await asyncio.sleep(0.01)


# -- 1. storage throughput ---------------------------------------------------------------------


async def throughput(backend: str, streams: int) -> dict[str, Any]:
    async with _database(backend) as (url, tmp):
        await asyncio.to_thread(migrate.upgrade, url, "head")
        engine = create_engine(url)
        go = asyncio.Event()
        per_stream = EVENTS // streams
        sources = BenchSources(lambda: BenchSource(per_stream, go))
        service = LiveService(
            _settings(url, tmp), engine, create_session_factory(engine), sources, hub=LocalHub()
        )
        await service.start()
        tune_gc()  # as the app does once it has started
        try:
            owner = await _owner(engine)
            await asyncio.gather(
                *(service.captures.start(owner, f"streamer_{i}") for i in range(streams))
            )
            wall, cpu = time.perf_counter(), time.process_time()
            go.set()
            await _wait_ended(service)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            batches = service.writer.batches_written
        finally:
            await service.stop()
            await engine.dispose()
    total = per_stream * streams
    return {
        "backend": backend,
        "streams": streams,
        "events": total,
        "per_s": total / wall,
        "per_cpu_s": total / cpu,
        "batches": batches,
    }


async def writer_only(backend: str, streams: int) -> dict[str, Any]:
    """The storage stage alone: records already mapped, straight into the batched writer."""
    async with _database(backend) as (url, _tmp):
        await asyncio.to_thread(migrate.upgrade, url, "head")
        engine = create_engine(url)
        owner = await _owner(engine)
        ids = []
        async with create_session_factory(engine)() as db:
            db.add(Streamer(username="w", total_sessions=streams))
            await db.flush()
            for _ in range(streams):
                row = LiveSession(
                    owner_id=owner,
                    streamer_username="w",
                    status="active",
                    streamer_info={},
                    counters={},
                )
                db.add(row)
                await db.flush()
                ids.append(row.id)
            await db.commit()
        mapper = EventMapper()
        records = []
        for i in range(EVENTS):
            record = mapper.record(replace(TEMPLATES[i % len(TEMPLATES)], msg_id=next(_msg_ids)))
            assert record is not None
            records.append((ids[i % streams], record))
        writer = EventWriter(engine, batch_size=1000)
        for session_id in ids:
            writer.track(session_id, SessionTally())
        writer.start()
        wall, cpu = time.perf_counter(), time.process_time()
        for session_id, record in records:
            await writer.submit(session_id, record)
        await writer.flush()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        await writer.close()
        await engine.dispose()
    return {"per_s": EVENTS / wall, "per_cpu_s": EVENTS / cpu}


# -- 2. event -> SSE latency -------------------------------------------------------------------


@asynccontextmanager
async def _serve(app: Any) -> AsyncIterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


async def latency(streams: int, sse_clients: int) -> dict[str, Any]:
    """N streams at STREAM_RATE events/s each; every stream has an in-process subscriber
    (what the SSE endpoint reads) and `sse_clients` of them also a real SSE client over HTTP."""
    async with _database("sqlite") as (url, tmp):
        stamps: dict[int, float] = {}
        go = asyncio.Event()
        app = create_app(_settings(url, tmp))
        app_state(app).provide(
            LiveSources(
                BenchSources(lambda: BenchSource(None, go, rate=STREAM_RATE, stamps=stamps))
            )
        )
        hub_ms: list[float] = []
        sse_ms: list[float] = []
        async with _serve(app) as base:
            service = app_state(app).get(LiveService)
            owner = await _owner(service.engine)
            async with service.session_factory() as db:
                user = await db.get(User, owner)
                assert user is not None
                _, key = await create_api_key(db, user, "bench", None)
                await db.commit()
            sessions = await asyncio.gather(
                *(service.captures.start(owner, f"streamer_{i}") for i in range(streams))
            )
            readers = [
                asyncio.create_task(_hub_reader(service.hub, s.id, stamps, hub_ms))
                for s in sessions
            ]
            async with httpx.AsyncClient(
                base_url=base, headers={"x-api-key": key}, timeout=60
            ) as http:
                sse = [
                    asyncio.create_task(_sse_reader(http, s.id, stamps, sse_ms))
                    for s in sessions[:sse_clients]
                ]
                await asyncio.sleep(1.0)  # subscriptions in place
                cpu = time.process_time()
                go.set()
                await asyncio.sleep(LATENCY_SECONDS)
                cpu = time.process_time() - cpu
                for task in (*readers, *sse):
                    task.cancel()
                await asyncio.gather(*readers, *sse, return_exceptions=True)
            stored = sum(s.total_events for s in await _sessions(service, [s.id for s in sessions]))
    return {
        "streams": streams,
        "rate": streams * STREAM_RATE,
        "stored": stored,
        "hub": _percentiles(hub_ms),
        "sse": _percentiles(sse_ms),
        "cpu_share": cpu / LATENCY_SECONDS,
    }


async def _sessions(service: LiveService, ids: list[uuid.UUID]) -> list[LiveSession]:
    async with service.session_factory() as db:
        return [s for s in [await db.get(LiveSession, i) for i in ids] if s is not None]


async def _hub_reader(
    hub: LocalHub, session_id: uuid.UUID, stamps: dict[int, float], out: list[float]
) -> None:
    async with hub.subscription(session_id) as sub:
        while True:
            item = await sub.get()
            now = time.perf_counter()
            if isinstance(item, list):
                out.extend((now - stamps[int(e["msg_id"])]) * 1000 for e in item)


async def _sse_reader(
    http: httpx.AsyncClient, session_id: uuid.UUID, stamps: dict[int, float], out: list[float]
) -> None:
    async with http.stream("GET", f"/api/sessions/{session_id}/stream") as response:
        async for line in response.aiter_lines():
            if line.startswith("data:") and '"msg_id"' in line:
                event = json.loads(line[5:])
                out.append((time.perf_counter() - stamps[int(event["msg_id"])]) * 1000)


def _percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"n": len(values), "p50": float("nan"), "p99": float("nan")}
    q = statistics.quantiles(values, n=100)
    return {"n": len(values), "p50": q[49], "p99": q[98], "max": max(values)}


# -- 3. memory per stream ----------------------------------------------------------------------


async def memory(streams: int) -> dict[str, Any]:
    """Python heap added by N captures (task, source, mapper, writer totals), measured with
    tracemalloc: idle, then after each stream has captured 200 events (the per-capture
    duplicate and gift-streak memories fill up as events flow, up to their bound)."""
    import tracemalloc

    async with _database("sqlite") as (url, tmp):
        await asyncio.to_thread(migrate.upgrade, url, "head")
        engine = create_engine(url)
        go = asyncio.Event()
        sources = BenchSources(lambda: BenchSource(200, go, hold=True))
        service = LiveService(
            _settings(url, tmp), engine, create_session_factory(engine), sources, hub=LocalHub()
        )
        await service.start()
        tune_gc()  # as the app does once it has started
        try:
            owner = await _owner(engine)
            await service.captures.start(owner, "warm_up")  # imports, compiled SQL, pools
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            sessions = [await service.captures.start(owner, f"s{i}") for i in range(streams)]
            idle = tracemalloc.get_traced_memory()[0]
            go.set()
            await _all_stored(service, [s.id for s in sessions], 200)
            busy = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
        finally:
            await service.stop()
            await engine.dispose()
    return {
        "streams": streams,
        "idle_kb": (idle - before) / 1000 / streams,
        "after_kb": (busy - before) / 1000 / streams,
    }


# -- 4. export ---------------------------------------------------------------------------------


async def export(count: int) -> list[dict[str, Any]]:
    async with _database("sqlite") as (url, _tmp):
        await asyncio.to_thread(migrate.upgrade, url, "head")
        engine = create_engine(url)
        owner = await _owner(engine)
        async with create_session_factory(engine)() as db:
            db.add(Streamer(username="big", total_sessions=1))
            await db.flush()
            session = LiveSession(
                owner_id=owner,
                streamer_username="big",
                status="ended",
                streamer_info={},
                counters={},
            )
            db.add(session)
            await db.commit()
        writer = EventWriter(engine, batch_size=1900, flush_interval=0.05)
        writer.track(session.id, SessionTally())
        writer.start()
        mapper = EventMapper()
        for i in range(count):
            event = replace(TEMPLATES[i % len(TEMPLATES)], msg_id=next(_msg_ids))
            record = mapper.record(event)
            assert record is not None
            await writer.submit(session.id, record)
        await writer.close()
        results = []
        formats: tuple[ExportFormat, ...] = ("ndjson", "csv", "json")
        for fmt in formats:
            size, started, baseline = 0, time.perf_counter(), _rss_mb()
            with _PeakRss() as rss:
                async for chunk in export_stream(
                    engine, session.id, fmt, session={"id": str(session.id)}
                ):
                    size += len(chunk)
            seconds = time.perf_counter() - started
            results.append(
                {
                    "format": fmt,
                    "events": count,
                    "mb": size / 1e6,
                    "seconds": seconds,
                    "events_s": count / seconds,
                    "rss_growth_mb": rss.peak - baseline,
                }
            )
        await engine.dispose()
    return results


# -- report ------------------------------------------------------------------------------------


async def _main() -> None:
    print(f"events per throughput run: {EVENTS:,}; stream rate for latency: {STREAM_RATE:g}/s")
    print("\n1. events stored per second (full capture path)")
    print(f"{'backend':<9}{'N':>6}{'events/s (wall)':>18}{'events/CPU-s':>15}{'batches':>9}")
    backends = ["sqlite", "postgres"] if POSTGRES else ["sqlite"]
    for backend in backends:
        for n in (1, 10, 100, 1000):
            r = await throughput(backend, n)
            print(
                f"{backend:<9}{n:>6}{r['per_s']:>18,.0f}{r['per_cpu_s']:>15,.0f}{r['batches']:>9}"
            )
        for n in (1, 1000):
            w = await writer_only(backend, n)
            print(f"{backend:<9}{n:>6}{w['per_s']:>18,.0f}{w['per_cpu_s']:>15,.0f}  writer only")
    print("\n2. event -> subscriber latency, SQLite (source yield -> in-process hub / SSE client)")
    header = ("N", "events/s", "hub p50", "hub p99", "SSE p50", "SSE p99", "SSE n", "CPU")
    print("".join(f"{h:>9}" for h in header))
    for n, clients in ((10, 10), (100, 50), (1000, 50)):
        r = await latency(n, clients)
        h, s = r["hub"], r["sse"]
        cells = [f"{n}", f"{r['rate']:,.0f}", f"{h['p50']:.1f}", f"{h['p99']:.1f}"]
        cells += [f"{s['p50']:.1f}", f"{s['p99']:.1f}", f"{s['n']}", f"{r['cpu_share']:.0%}"]
        print("".join(f"{c:>9}" for c in cells))
    print("\n3. memory per stream (Python heap: capture task, source, mapper, totals)")
    for n in (10, 100, 1000):
        r = await memory(n)
        idle, after = r["idle_kb"], r["after_kb"]
        print(f"N={n:<6} idle {idle:.1f} KB/stream, after 200 events {after:.1f} KB/stream")
    print(f"\n4. export of {EXPORT_EVENTS:,} events (SQLite)")
    print(f"{'format':<8}{'MB':>9}{'seconds':>9}{'events/s':>11}{'RSS growth MB':>15}")
    for r in await export(EXPORT_EVENTS):
        print(
            f"{r['format']:<8}{r['mb']:>9.1f}{r['seconds']:>9.1f}{r['events_s']:>11,.0f}{r['rss_growth_mb']:>15.1f}"
        )


def main() -> None:
    configure_logging("console", "WARNING")
    asyncio.run(_main())


if __name__ == "__main__":
    main()
