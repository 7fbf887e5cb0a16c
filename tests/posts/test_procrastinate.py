"""The publishing queue on procrastinate (PostgreSQL): real workers, real jobs, the loopback
platform. The rows stay the truth: duplicate jobs send once, a row committed without a job
is found, a dead worker's job is retried, a post due in 2 s goes out on time."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from procrastinate import App, JobContext
from procrastinate.jobs import Status
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.core.clock import clock
from allin.core.config import Settings
from allin.posts.dispatcher import worker_id
from allin.posts.media import MediaStore
from allin.posts.models import PostTarget, QueueWorker, TargetStatus
from allin.posts.notify import Notifier
from allin.posts.ports import Due
from allin.posts.publisher import Publisher
from allin.posts.tasks import (
    PUBLISH_TASK,
    JobWaker,
    WorkerRuntime,
    conninfo,
    create_queue_app,
    defer_publish,
    remove_old_jobs,
)
from allin.posts.worker import run_worker
from tests.posts.conftest import add_due_targets
from tests.posts.platform import PlatformState
from tests.posts.provider import LoopbackAccounts, LoopbackProvider
from tests.support.databases import fresh_database

pytestmark = pytest.mark.postgres


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    async with fresh_database("postgres", tmp_path) as url:
        yield url


@pytest.fixture
def queue_settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(
        database_url=database_url,
        queue="procrastinate",
        posts_poll_interval=0.2,
        posts_lease_seconds=2.0,
        posts_concurrency=4,
        posts_retry_base=0.1,
        posts_reconcile_grace=0.5,
        posts_reconcile_interval=0.2,
        posts_worker_heartbeat=0.5,
        posts_stalled_after=1.0,
    )


@pytest.fixture
async def jobs(queue_settings: Settings, engine: Any) -> AsyncIterator[App]:
    app = create_queue_app(queue_settings, pool_size=2)
    async with app.open_async():
        yield app


@pytest.fixture
async def accounts(
    platform: tuple[PlatformState, str], owner_id: uuid.UUID
) -> AsyncIterator[LoopbackAccounts]:
    provider = LoopbackProvider(platform[1])
    yield LoopbackAccounts(provider, owner_id)
    await provider.aclose()


@contextlib.asynccontextmanager
async def running_worker(settings: Settings, accounts: LoopbackAccounts) -> AsyncIterator[None]:
    """`allin worker`'s loop in this process (no signal handlers; cancelled at the end)."""
    task = asyncio.create_task(
        run_worker(settings, accounts, Notifier(settings, None), install_signal_handlers=False)
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_until_published(
    sessions: async_sessionmaker[AsyncSession], ids: list[uuid.UUID], seconds: float = 20
) -> list[PostTarget]:
    deadline = clock.monotonic() + seconds
    while True:
        async with sessions() as session:
            rows = list(await session.scalars(select(PostTarget).where(PostTarget.id.in_(ids))))
        if all(row.status == TargetStatus.PUBLISHED for row in rows):
            return rows
        if clock.monotonic() > deadline:
            pytest.fail(f"not published: {[(r.status, r.last_error) for r in rows]}")
        await asyncio.sleep(0.05)


async def wait_for(check: Callable[[], Awaitable[bool]], seconds: float = 10) -> None:
    deadline = clock.monotonic() + seconds
    while not await check() and clock.monotonic() < deadline:  # noqa: ASYNC110 - the database
        await asyncio.sleep(0.05)


async def _no_jobs(sessions: async_sessionmaker[AsyncSession]) -> bool:
    return not await job_rows(sessions)


async def job_rows(sessions: async_sessionmaker[AsyncSession]) -> list[Any]:
    async with sessions() as session:
        result = await session.execute(
            text(
                "SELECT status::text, args->>'target_id' FROM procrastinate_jobs"
                " WHERE task_name = :t"
            ),
            {"t": PUBLISH_TASK},
        )
        return list(result.all())


def runtime_for(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    accounts: LoopbackAccounts,
    app: App,
) -> WorkerRuntime:
    media = MediaStore(settings.data_dir / "media", settings.posts_max_upload_bytes)
    publisher = Publisher(
        settings, sessions, accounts, media, Notifier(settings, None), worker_id("test")
    )
    return WorkerRuntime(settings, sessions, publisher, app)


def test_conninfo_is_the_same_server_for_libpq() -> None:
    url = "postgresql+asyncpg://app:p%40ss@db.internal:6543/allin?ssl=require"
    assert conninfo(url) == "postgresql://app:p%40ss@db.internal:6543/allin?sslmode=require"


async def test_two_jobs_for_one_row_send_it_once(
    queue_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    owner_id: uuid.UUID,
    platform: tuple[PlatformState, str],
    accounts: LoopbackAccounts,
    jobs: App,
) -> None:
    state, _ = platform
    state.latency = 0.3  # both jobs are running while the first send is in flight
    [target_id] = await add_due_targets(sessions, owner_id, 1, clock.now())
    task = jobs.tasks[PUBLISH_TASK]
    for _ in range(3):  # no queueing lock: three live jobs for the same row
        await task.defer_async(target_id=str(target_id))
    async with running_worker(queue_settings, accounts):
        [row] = await wait_until_published(sessions, [target_id])
        await wait_for(lambda: _no_jobs(sessions))
    assert state.count_by_key() == {row.idempotency_key: 1}
    assert row.attempts == 1
    assert await job_rows(sessions) == []  # every job ran and succeeded (and was deleted)


async def test_a_row_committed_without_a_job_is_deferred_once_then_published(
    queue_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    owner_id: uuid.UUID,
    platform: tuple[PlatformState, str],
    accounts: LoopbackAccounts,
    jobs: App,
) -> None:
    """The process died between the commit and the defer: the periodic task finds it."""
    ids = await add_due_targets(sessions, owner_id, 3, clock.now())
    later = await add_due_targets(sessions, owner_id, 1, clock.now() + timedelta(hours=1))
    runtime = runtime_for(queue_settings, sessions, accounts, jobs)
    assert await runtime.defer_due() == 3
    assert await runtime.defer_due() == 0  # each due row has a live job now
    assert sorted(target for _, target in await job_rows(sessions)) == sorted(map(str, ids))
    async with running_worker(queue_settings, accounts):
        await wait_until_published(sessions, ids)
    state, _ = platform
    assert sorted(state.count_by_key().values()) == [1, 1, 1]
    async with sessions() as session:
        assert (await session.get(PostTarget, later[0])).status == TargetStatus.SCHEDULED  # type: ignore[union-attr]


async def test_the_periodic_task_publishes_rows_nobody_deferred(
    queue_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    owner_id: uuid.UUID,
    platform: tuple[PlatformState, str],
    accounts: LoopbackAccounts,
) -> None:
    ids = await add_due_targets(sessions, owner_id, 5, clock.now())
    async with running_worker(queue_settings, accounts):
        await wait_until_published(sessions, ids, seconds=15)
    assert sorted(platform[0].count_by_key().values()) == [1] * 5


async def test_a_job_left_running_by_a_dead_worker_is_retried_and_publishes(
    queue_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    owner_id: uuid.UUID,
    platform: tuple[PlatformState, str],
    accounts: LoopbackAccounts,
    jobs: App,
) -> None:
    [target_id] = await add_due_targets(sessions, owner_id, 1, clock.now())
    await defer_publish(jobs, target_id, clock.now())
    manager = jobs.job_manager
    dead = await manager.register_worker()  # a worker that took the job, then got kill -9
    job = await manager.fetch_job(queues=None, worker_id=dead)
    assert job is not None and job.id is not None
    runtime = runtime_for(queue_settings, sessions, accounts, jobs)
    assert await runtime.retry_stalled() == 0  # its heartbeat is still fresh
    await asyncio.sleep(queue_settings.posts_stalled_after + 0.3)
    assert await runtime.retry_stalled() == 1
    assert [status for status, _ in await job_rows(sessions)] == ["todo"]
    async with running_worker(queue_settings, accounts):
        await wait_until_published(sessions, [target_id])
    assert list(platform[0].count_by_key().values()) == [1]


async def test_a_post_due_in_two_seconds_goes_out_on_time(
    queue_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    owner_id: uuid.UUID,
    platform: tuple[PlatformState, str],
    accounts: LoopbackAccounts,
    jobs: App,
) -> None:
    async with running_worker(queue_settings, accounts):
        await asyncio.sleep(0.5)  # the worker is up
        due = clock.now() + timedelta(seconds=2)
        [target_id] = await add_due_targets(sessions, owner_id, 1, due)
        await JobWaker(jobs).due([Due(target_id, due)])  # what the service does after commit
        [row] = await wait_until_published(sessions, [target_id], seconds=10)
    assert row.sent_at is not None
    assert due <= row.sent_at <= due + timedelta(seconds=1)


async def test_a_worker_is_listed_with_its_heartbeat(
    queue_settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    accounts: LoopbackAccounts,
) -> None:
    async with running_worker(queue_settings, accounts):
        deadline = clock.monotonic() + 10
        while clock.monotonic() < deadline:
            async with sessions() as session:
                workers = list(await session.scalars(select(QueueWorker)))
            if workers:
                break
            await asyncio.sleep(0.05)
        assert [w.kind for w in workers] == ["procrastinate"]
    async with sessions() as session:
        assert list(await session.scalars(select(QueueWorker))) == []  # signed off


async def test_failed_jobs_are_kept_a_day_then_removed(
    sessions: async_sessionmaker[AsyncSession], jobs: App
) -> None:
    manager = jobs.job_manager
    worker = await manager.register_worker()
    for _ in range(2):
        await jobs.tasks[PUBLISH_TASK].defer_async(target_id=str(uuid.uuid4()))
        job = await manager.fetch_job(queues=None, worker_id=worker)
        assert job is not None and job.id is not None
        await manager.finish_job_by_id_async(job.id, status=Status.FAILED, delete_job=False)
    async with sessions() as session, session.begin():
        await session.execute(
            text(
                "UPDATE procrastinate_events SET at = at - INTERVAL '25 hours'"
                " WHERE job_id = (SELECT min(id) FROM procrastinate_jobs)"
            )
        )
    context = JobContext(app=jobs, job=job, start_timestamp=0.0, abort_reason=lambda: None)
    await remove_old_jobs(context, 0)
    assert [status for status, _ in await job_rows(sessions)] == ["failed"]  # the recent one
