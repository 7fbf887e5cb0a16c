"""The publishing queue under a burst: N targets due in the same minute, published to a
loopback platform (a separate process), by the embedded dispatcher or by W procrastinate
`allin worker` processes (PostgreSQL).

    .venv/bin/python -m benchmarks.posts.bench_queue                  # SQLite, embedded
    BENCH_DATABASE_URL=postgresql://... BENCH_WORKERS=4 \\
        .venv/bin/python -m benchmarks.posts.bench_queue

BENCH_TARGETS (10000), BENCH_CONCURRENCY (sends in flight per process, 32),
BENCH_PLATFORM_LATENCY (seconds the platform takes per post, 0; real platforms take
0.3-2 s). Each worker holds up to ~19 PostgreSQL connections: keep BENCH_WORKERS x 19 under
the server's max_connections (100 by default).

Reports the time until every target is PUBLISHED, the lag from due to the platform call
(sent_at - scheduled_at) p50/p99, and the idle dispatcher's (or worker's) CPU use.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import socket
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.auth.models import User, UserStatus
from allin.core.clock import clock
from allin.core.config import Settings, normalise_database_url
from allin.core.logging import configure_logging
from allin.db import migrate
from allin.db.engine import create_engine, create_session_factory
from allin.posts.dispatcher import Dispatcher, worker_id
from allin.posts.media import MediaStore
from allin.posts.models import Post, PostTarget, TargetStatus
from allin.posts.notify import Notifier
from allin.posts.publisher import Publisher
from allin.posts.tasks import PUBLISH_TASK, create_queue_app
from allin.posts.worker import run_worker
from tests.posts.platform import PlatformState, platform_app
from tests.posts.provider import LoopbackAccounts, LoopbackProvider
from tests.support.server import free_port

TARGETS = int(os.environ.get("BENCH_TARGETS", "10000"))
# 0: one embedded dispatcher in-process; N: N procrastinate worker processes (PostgreSQL).
WORKERS = int(os.environ.get("BENCH_WORKERS", "0"))
PLATFORM_LATENCY = float(os.environ.get("BENCH_PLATFORM_LATENCY", "0"))
ACCOUNTS = 100
# Sends in flight per process; keep processes x (pool) under PostgreSQL's max_connections.
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "32"))


def _platform(port: int) -> None:
    state = PlatformState(latency=PLATFORM_LATENCY)
    uvicorn.run(platform_app(state), host="127.0.0.1", port=port, log_level="error")


def _settings(database_url: str, data_dir: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        data_dir=data_dir,
        log_level="WARNING",
        posts_concurrency=CONCURRENCY,
        posts_batch_size=200,
        posts_poll_interval=1.0,
        queue="procrastinate" if WORKERS else "embedded",
    )


async def _seed(database_url: str, due_in: float) -> tuple[uuid.UUID, float]:
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    user = User(email=f"{uuid.uuid4().hex[:8]}@bench.test", password_hash="-",  # noqa: S106  # never logs in
                display_name="bench", status=UserStatus.ACTIVE)  # fmt: skip
    async with sessions() as session, session.begin():
        session.add(user)
    due = clock.now() + timedelta(seconds=due_in)
    accounts = [uuid.uuid4() for _ in range(ACCOUNTS)]
    async with sessions() as session, session.begin():
        for start in range(0, TARGETS, 1000):
            posts = [{"id": uuid.uuid4(), "owner_id": user.id, "content": f"bench {i}",
                      "variants": {}, "media_ids": [], "timezone": "UTC",
                      "created_at": clock.now(), "updated_at": clock.now()}
                     for i in range(start, min(TARGETS, start + 1000))]  # fmt: skip
            await session.execute(insert(Post), posts)
            await session.execute(
                insert(PostTarget),
                [{"id": uuid.uuid4(), "post_id": p["id"], "owner_id": user.id,
                  "account_id": accounts[i % ACCOUNTS], "platform": "linkedin",
                  "status": TargetStatus.SCHEDULED, "scheduled_at": due, "next_attempt_at": due,
                  "attempts": 0, "idempotency_key": uuid.uuid4().hex,
                  "created_at": clock.now(), "updated_at": clock.now()}
                 for i, p in enumerate(posts)],
            )  # fmt: skip
    await engine.dispose()
    return user.id, due.timestamp()


async def _dispatch(database_url: str, platform_url: str, owner: uuid.UUID, data_dir: Path,
                    until_done: bool) -> None:  # fmt: skip
    settings = _settings(database_url, data_dir)
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    provider = LoopbackProvider(platform_url)
    publisher = Publisher(
        settings, sessions, LoopbackAccounts(provider, owner),
        MediaStore(data_dir / "media", settings.posts_max_upload_bytes),
        Notifier(settings, None), worker_id("bench"),
    )  # fmt: skip
    dispatcher = Dispatcher(settings, sessions, publisher)
    await dispatcher.start()
    try:
        if not until_done:
            await asyncio.Event().wait()  # idle until cancelled
        while True:
            await asyncio.sleep(0.2)
            if not await _unpublished(sessions):
                break
    finally:
        await dispatcher.stop()
        await provider.aclose()
        await engine.dispose()


async def _unpublished(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        left = await session.scalar(
            select(func.count()).select_from(PostTarget)
            .where(PostTarget.status != TargetStatus.PUBLISHED)
        )  # fmt: skip
    return int(left or 0)


async def _work(database_url: str, platform_url: str, owner: uuid.UUID, data_dir: Path,
                until_done: bool) -> None:  # fmt: skip
    """What `allin worker` runs (a procrastinate worker), publishing to the loopback platform."""
    settings = _settings(database_url, data_dir)
    provider = LoopbackProvider(platform_url)
    accounts = LoopbackAccounts(provider, owner)
    worker = asyncio.create_task(
        run_worker(settings, accounts, Notifier(settings, None), install_signal_handlers=False)
    )
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    sessions = create_session_factory(engine)
    try:
        while until_done and not worker.done():
            await asyncio.sleep(0.2)
            if not await _unpublished(sessions):
                break
        if not until_done:
            await asyncio.Event().wait()  # idle until cancelled
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        await provider.aclose()
        await engine.dispose()


def _worker(database_url: str, platform_url: str, owner: str, data_dir: str) -> None:
    configure_logging("console", "WARNING")
    asyncio.run(_work(database_url, platform_url, uuid.UUID(owner), Path(data_dir), True))


async def _defer_jobs(database_url: str, data_dir: Path, owner: uuid.UUID, due: float) -> None:
    """One job per target of this run, runnable at its due time: what `allin serve` defers
    after the commit of each schedule."""
    app = create_queue_app(_settings(database_url, data_dir), pool_size=1)
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    async with app.open_async(), sessions() as session:
        ids = [
            str(i)
            for i in await session.scalars(
                select(PostTarget.id).where(PostTarget.owner_id == owner)
            )
        ]
        task = app.tasks[PUBLISH_TASK].configure(schedule_at=datetime.fromtimestamp(due, UTC))
        for start in range(0, len(ids), 1000):
            await task.batch_defer_async(*({"target_id": i} for i in ids[start : start + 1000]))
    await engine.dispose()


async def _results(
    database_url: str, owner: uuid.UUID, due: float
) -> tuple[float, float, float, int]:
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    async with sessions() as session:
        rows = (
            await session.execute(
                select(PostTarget.sent_at, PostTarget.published_at).where(
                    PostTarget.owner_id == owner
                )
            )
        ).all()
    await engine.dispose()
    lags = sorted(r.sent_at.timestamp() - due for r in rows if r.sent_at)
    last = max(r.published_at.timestamp() for r in rows if r.published_at)
    p99 = lags[int(len(lags) * 0.99) - 1]
    return last - due, statistics.median(lags), p99, len(lags)


async def _idle_cpu(database_url: str, platform_url: str, data_dir: Path, seconds: float) -> float:
    owner, _ = uuid.uuid4(), None
    run = _work if WORKERS else _dispatch
    task = asyncio.create_task(run(database_url, platform_url, owner, data_dir, False))
    await asyncio.sleep(1.0)
    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    used = (time.process_time() - cpu) / (time.monotonic() - wall)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return used * 100


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("the platform did not start")


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-posts-"))
    given = os.environ.get("BENCH_DATABASE_URL")
    database_url = normalise_database_url(given) if given else f"sqlite+aiosqlite:///{workdir}/q.db"
    migrate.upgrade(database_url, "head")
    port = free_port()
    ctx = multiprocessing.get_context("spawn")
    platform = ctx.Process(target=_platform, args=(port,), daemon=True)
    platform.start()
    _wait_for_port(port)
    configure_logging("console", "WARNING")
    url = f"http://127.0.0.1:{port}"
    try:
        # Due once the worker processes are up (spawned, imported), so the lag is the queue's.
        ahead = 2.0 + TARGETS / 5000 + (6.0 if WORKERS else 0.0)
        owner, due = asyncio.run(_seed(database_url, due_in=ahead))
        if WORKERS:
            asyncio.run(_defer_jobs(database_url, workdir, owner, due))
        start = time.monotonic()
        if WORKERS:
            procs = [ctx.Process(target=_worker, args=(database_url, url, str(owner), str(workdir)))
                     for _ in range(WORKERS)]  # fmt: skip
            for proc in procs:
                proc.start()
            for proc in procs:
                proc.join()
        else:
            asyncio.run(_dispatch(database_url, url, owner, workdir, True))
        wall = time.monotonic() - start
        total, p50, p99, sent = asyncio.run(_results(database_url, owner, due))
        mode = f"{WORKERS} procrastinate worker(s)" if WORKERS else "embedded dispatcher"
        print(f"{mode}, {database_url.split(':')[0]}: {sent} targets published in {total:.1f} s "
              f"after due ({sent / total:.0f}/s; run {wall:.1f} s); "
              f"lag due->send p50 {p50:.2f} s, p99 {p99:.2f} s")  # fmt: skip
        idle = asyncio.run(_idle_cpu(database_url, url, workdir, 20.0))
        idler = "worker" if WORKERS else "dispatcher"
        print(f"idle {idler} (nothing due, poll 1 s): {idle:.2f} % of one core")
    finally:
        platform.terminate()


if __name__ == "__main__":
    main()
