"""One `allin worker` process: a procrastinate worker on the `publish` queue that runs the
tasks of `allin.posts.tasks`, plus the heartbeat row the admin's queue status lists.

Connections per process stay small so several workers fit PostgreSQL's default
max_connections (100): the SQLAlchemy pool is sized by the publishes in flight (capped at
10 + 5 overflow), procrastinate's psycopg pool holds at most 4 (LISTEN, fetch, finish, defer).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from allin.core.clock import clock
from allin.core.config import Settings
from allin.core.logging import Category, get_logger
from allin.db.engine import create_engine, create_session_factory
from allin.posts.dispatcher import heartbeat, sign_off, worker_id
from allin.posts.media import MediaStore
from allin.posts.notify import Notifier
from allin.posts.ports import PublishingAccounts
from allin.posts.publisher import Publisher
from allin.posts.tasks import (
    PUBLISH_QUEUE,
    RUNTIME_KEY,
    WorkerRuntime,
    create_queue_app,
    require_postgres,
)

log = get_logger(Category.QUEUE)
KIND = "procrastinate"
_HEARTBEAT_EVERY = 5.0


async def run_worker(
    settings: Settings,
    accounts: PublishingAccounts,
    notifier: Notifier,
    *,
    install_signal_handlers: bool = True,
) -> None:
    """Publishes until SIGINT/SIGTERM (or cancellation); the first signal lets the sends in
    flight finish."""
    require_postgres(settings)
    if settings.log_level.upper() != "DEBUG":
        # procrastinate logs every job's start and end at INFO: with the upkeep tasks every
        # few seconds that drowns the log. Each publish logs its own outcome.
        logging.getLogger("procrastinate").setLevel(logging.WARNING)
    concurrency = settings.posts_concurrency
    engine = create_engine(
        settings.effective_database_url, pool_size=min(10, concurrency + 2), max_overflow=5
    )
    sessions = create_session_factory(engine)
    media = MediaStore(settings.data_dir / "media", settings.posts_max_upload_bytes)
    publisher = Publisher(settings, sessions, accounts, media, notifier, worker_id("worker"))
    app = create_queue_app(settings)
    runtime = WorkerRuntime(settings, sessions, publisher, app)
    beat = asyncio.create_task(_heartbeats(publisher), name=f"heartbeat-{publisher.owner}")
    try:
        async with app.open_async():
            log.info("worker started", worker=publisher.owner, concurrency=concurrency)
            await app.run_worker_async(
                queues=[PUBLISH_QUEUE],
                name=publisher.owner,
                concurrency=concurrency,
                # Scheduled jobs are found by polling: half the poll interval keeps a post
                # due at a time within that of its time.
                fetch_job_polling_interval=settings.posts_poll_interval / 2,
                delete_jobs="successful",
                additional_context={RUNTIME_KEY: runtime},
                install_signal_handlers=install_signal_handlers,
                update_heartbeat_interval=settings.posts_worker_heartbeat,
                stalled_worker_timeout=settings.posts_stalled_after,
                shutdown_graceful_timeout=settings.posts_lease_seconds,
            )
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
        await sign_off(publisher)
        await engine.dispose()
        log.info("worker stopped", worker=publisher.owner)


async def _heartbeats(publisher: Publisher) -> None:
    while True:
        started = clock.monotonic()
        try:
            await heartbeat(publisher, KIND)
        except Exception:  # the database may be briefly away
            log.exception("worker heartbeat failed", worker=publisher.owner)
        await asyncio.sleep(max(0.0, _HEARTBEAT_EVERY - (clock.monotonic() - started)))
