"""The publishing queue on procrastinate (`ALLIN_QUEUE=procrastinate`): `allin worker`
processes on a shared PostgreSQL publish, `allin serve` only defers their jobs.

The target rows stay the truth; a job is a wake-up call for one row. `publish_target`
claims that row with the same atomic lease as the embedded dispatcher and runs the same
`Publisher`, so a duplicate, early, late or retried job is a harmless no-op: the claim only
succeeds for a row that is due, not leased and not done, and the row turns PUBLISHING
(committed) before the platform call.

Driver choice: the app's SQLAlchemy engine runs on asyncpg (the whole PostgreSQL suite runs
on it), and procrastinate's transactional defer needs a psycopg 3 connection (on asyncpg it
fails). So jobs are deferred from procrastinate's own psycopg pool right AFTER the row change
commits. A crash between that commit and the defer loses nothing: `defer_due_targets` runs
every few seconds on some worker (procrastinate keeps a periodic task to one run per period
across workers) and defers every due row that has no live job.

procrastinate never takes back a job whose worker died (`kill -9` leaves it `doing`), so
`retry_stalled_jobs` puts the jobs of silent workers back to `todo`; that is safe only
because `publish_target` is idempotent against the row.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from procrastinate import App, JobContext, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Status
from sqlalchemy import Select, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.core.clock import clock
from allin.core.config import Settings
from allin.core.logging import Category, get_logger
from allin.db.engine import is_sqlite
from allin.posts import queue
from allin.posts.models import PostTarget, TargetStatus
from allin.posts.ports import Due
from allin.posts.publisher import Publisher

log = get_logger(Category.QUEUE)

PUBLISH_QUEUE = "publish"
PUBLISH_TASK = "posts.publish_target"
DEFER_DUE_TASK = "posts.defer_due_targets"
RETRY_STALLED_TASK = "posts.retry_stalled_jobs"
REMOVE_OLD_TASK = "posts.remove_old_jobs"
RUNTIME_KEY = "allin_posts"
# Periodic tasks: 6-field cron, the sixth field is seconds.
DEFER_DUE_CRON = "* * * * * */2"
RETRY_STALLED_CRON = "* * * * * */5"
REMOVE_OLD_CRON = "17 * * * *"
_KEEP_FAILED_HOURS = 24
# A row found not yet due is looked at again no sooner than this (clock skew guard).
_RECHECK_GAP = timedelta(seconds=0.1)
_QUEUED = (TargetStatus.SCHEDULED, TargetStatus.UNCONFIRMED)
_ORPHAN_BATCHES = 10


class QueueNeedsPostgresError(RuntimeError):
    """procrastinate runs on PostgreSQL only."""


def require_postgres(settings: Settings) -> None:
    if is_sqlite(settings.effective_database_url):
        raise QueueNeedsPostgresError(
            "ALLIN_QUEUE=procrastinate and `allin worker` need PostgreSQL "
            "(ALLIN_DATABASE_URL=postgresql://user:password@host/db); "
            "on SQLite use ALLIN_QUEUE=embedded"
        )


def conninfo(database_url: str) -> str:
    """The libpq URL for psycopg, from the app's SQLAlchemy URL (same server and database)."""
    url = make_url(database_url)
    query = dict(url.query)
    ssl = query.pop("ssl", None)  # asyncpg's spelling
    if ssl is not None and "sslmode" not in query:
        query["sslmode"] = ssl
    url = url.set(drivername="postgresql", query=query)
    return url.render_as_string(hide_password=False)


def create_queue_app(settings: Settings, pool_size: int = 4) -> App:
    """The procrastinate app on the settings' database, not yet opened. A small pool: jobs
    hold no connection while they run (fetch, finish, defer and LISTEN use it)."""
    require_postgres(settings)
    connector = PsycopgConnector(
        conninfo=conninfo(settings.effective_database_url), min_size=1, max_size=pool_size
    )
    app = App(connector=connector)
    _register(app)
    return app


async def defer_publish(app: App, target_id: uuid.UUID, at: datetime) -> None:
    """A `publish_target` job for the row, runnable from `at`. One waiting job per row and
    due time (a waiting job for a later time must not block an earlier reschedule)."""
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    task = app.tasks[PUBLISH_TASK]
    lock = f"{target_id}@{at.isoformat()}"
    with contextlib.suppress(AlreadyEnqueued):  # that job is already waiting
        await task.configure(schedule_at=at, queueing_lock=lock).defer_async(
            target_id=str(target_id)
        )


class JobWaker:
    """The service's hook in `allin serve` with ALLIN_QUEUE=procrastinate: a job per row."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def due(self, targets: Sequence[Due]) -> None:
        for target in targets:
            await defer_publish(self.app, target.target_id, target.at)


@dataclass(slots=True)
class WorkerRuntime:
    """What the tasks of one worker process share (handed over in the job context)."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    publisher: Publisher
    app: App

    async def publish(self, target_id: uuid.UUID) -> None:
        lease = timedelta(seconds=self.settings.posts_lease_seconds)
        async with self.publisher.writing() as session:
            claimed = await queue.claim(
                session, self.publisher.owner, clock.now(), lease, 1, target_id
            )
        if claimed:
            try:
                await self.publisher.run(target_id)
            except Exception:  # the lease expires; the sweep takes the row back
                log.exception("publish crashed", target_id=str(target_id))
        await self.follow_up(target_id)

    async def follow_up(self, target_id: uuid.UUID) -> None:
        """A row still queued and free gets its next job (a retry later, a job that ran
        before the row was due); a leased row's holder follows it up itself."""
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(
                        PostTarget.status, PostTarget.next_attempt_at, PostTarget.lease_expires_at
                    ).where(PostTarget.id == target_id)
                )
            ).one_or_none()
        now = clock.now()
        if row is None or row.status not in _QUEUED or row.next_attempt_at is None:
            return
        if row.lease_expires_at is not None and row.lease_expires_at > now:
            return
        await defer_publish(self.app, target_id, max(row.next_attempt_at, now + _RECHECK_GAP))

    async def defer_due(self) -> int:
        """Sweeps expired leases, then defers a job for every due row without a live one."""
        now = clock.now()
        async with self.publisher.writing() as session:
            swept = await queue.sweep(session, now)
        if swept:
            log.warning("expired leases taken back", rows=swept)
        deferred = 0
        # A few batches per run, so a burst committed without jobs drains fast while one
        # run stays short.
        for _ in range(_ORPHAN_BATCHES):
            async with self.sessions() as session:
                rows = (await session.execute(_orphans(now, self.settings))).all()
            for target_id, at in rows:  # due rows: `at` is set and not after `now`
                await defer_publish(self.app, target_id, at or now)
            deferred += len(rows)
            if len(rows) < self.settings.posts_batch_size:
                break
        if deferred:
            log.info("due rows without a job deferred", rows=deferred)
        return deferred

    async def retry_stalled(self) -> int:
        manager = self.app.job_manager
        stalled = await manager.get_stalled_jobs(
            seconds_since_heartbeat=self.settings.posts_stalled_after, queue=PUBLISH_QUEUE
        )
        count = 0
        for job in stalled:
            try:
                await manager.retry_job(job)
                count += 1
            except Exception:  # a waiting twin holds its queueing lock: that one does the work
                assert job.id is not None
                await manager.finish_job_by_id_async(job.id, status=Status.FAILED, delete_job=True)
        if count:
            log.warning("jobs of silent workers retried", jobs=count)
        return count


def _orphans(now: datetime, settings: Settings) -> Select[uuid.UUID, datetime | None]:
    """Due rows (as the claim sees them) that no live job will pick up: no waiting job
    runnable now, no running job on a worker that is still alive."""
    stalled = f"{float(settings.posts_stalled_after)} seconds"
    no_live_job = text(
        "NOT EXISTS (SELECT 1 FROM procrastinate_jobs j"
        " WHERE j.task_name = :task AND j.args->>'target_id' = CAST(post_targets.id AS TEXT)"
        " AND ((j.status = 'todo' AND (j.scheduled_at IS NULL OR j.scheduled_at <= :now))"
        "  OR (j.status = 'doing' AND EXISTS (SELECT 1 FROM procrastinate_workers w"
        "   WHERE w.id = j.worker_id AND w.last_heartbeat >= :now - CAST(:stalled AS INTERVAL)))))"
    ).bindparams(task=PUBLISH_TASK, now=now, stalled=stalled)
    return (
        select(PostTarget.id, PostTarget.next_attempt_at)
        .where(queue.due(now), no_live_job)  # type: ignore[arg-type]
        .order_by(PostTarget.next_attempt_at)
        .limit(settings.posts_batch_size)
    )


def _runtime(context: JobContext) -> WorkerRuntime:
    runtime = context.additional_context[RUNTIME_KEY]
    assert isinstance(runtime, WorkerRuntime)
    return runtime


async def publish_target(context: JobContext, target_id: str) -> None:
    """Publishes the row if it is due and free; otherwise nothing (the row is the truth)."""
    await _runtime(context).publish(uuid.UUID(target_id))


async def defer_due_targets(context: JobContext, timestamp: int) -> None:
    await _runtime(context).defer_due()


async def retry_stalled_jobs(context: JobContext, timestamp: int) -> None:
    await _runtime(context).retry_stalled()


async def remove_old_jobs(context: JobContext, timestamp: int) -> None:
    """Successful jobs are deleted as they finish; failed ones (a database error in a
    publish) are kept a day for inspection, then go too."""
    await context.app.job_manager.delete_old_jobs(
        nb_hours=_KEEP_FAILED_HOURS, queue=PUBLISH_QUEUE, include_failed=True,
        include_cancelled=True, include_aborted=True,
    )  # fmt: skip


def _register(app: App) -> None:
    """The tasks on a new app (each app gets its own Task objects)."""
    app.task(name=PUBLISH_TASK, queue=PUBLISH_QUEUE, pass_context=True)(publish_target)
    # Above the publishes in the queue, so a full queue does not starve its upkeep.
    for name, cron, func in (
        (DEFER_DUE_TASK, DEFER_DUE_CRON, defer_due_targets),
        (RETRY_STALLED_TASK, RETRY_STALLED_CRON, retry_stalled_jobs),
        (REMOVE_OLD_TASK, REMOVE_OLD_CRON, remove_old_jobs),
    ):
        task = app.task(name=name, queue=PUBLISH_QUEUE, pass_context=True, priority=10)(func)
        app.periodic(cron=cron, periodic_id=name)(task)
