"""Publishing processes for the kill -9 test, forked on demand from one warm process (so a
round costs the time until the kill, not the imports). Each forked process runs the embedded
dispatcher with the app's own accounts service and platform providers (against the
platforms' simulators) until nothing is left to publish, or until it is killed.

    python -m tests.posts.publish_process SETTINGS_JSON [embedded|worker]

SETTINGS_JSON holds the values of the app's `Settings` (database, secret key, platform
hosts and app credentials). `worker` runs what `allin worker` runs (procrastinate, on
PostgreSQL) instead of the embedded dispatcher. stdin commands, one a line: `run` (answers
the new process's pid), `wait PID` (answers its exit status), `exit`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.core.config import Settings
from allin.db.engine import create_engine, create_session_factory
from allin.posts.dispatcher import Dispatcher, worker_id
from allin.posts.media import MediaStore
from allin.posts.models import PostTarget, TargetStatus
from allin.posts.notify import Notifier
from allin.posts.ports import PublishingAccounts
from allin.posts.publisher import Publisher
from allin.posts.worker import run_worker
from allin.publishing import standalone_accounts
from allin.social.registry import ProviderRegistry

_OPEN = (TargetStatus.SCHEDULED, TargetStatus.PUBLISHING, TargetStatus.UNCONFIRMED)
QUEUE = {
    "posts_lease_seconds": 2.0,
    "posts_reconcile_grace": 0.5,
    "posts_reconcile_interval": 0.2,
    "posts_poll_interval": 0.1,
    "posts_concurrency": 4,
    "posts_retry_base": 0.1,
}
# procrastinate: a killed worker's jobs are taken back after seconds, not the default 30.
WORKER = {"queue": "procrastinate", "posts_worker_heartbeat": 0.5, "posts_stalled_after": 1.5}


def settings_of(values: str, mode: str) -> Settings:
    extra = WORKER if mode == "worker" else {}
    return Settings(_env_file=None, **{**json.loads(values), **QUEUE, **extra})  # type: ignore[call-arg]


async def main(values: str, mode: str = "embedded") -> None:
    settings = settings_of(values, mode)
    engine = create_engine(settings.effective_database_url)
    sessions = create_session_factory(engine)
    accounts = standalone_accounts(settings, ProviderRegistry.from_settings)
    if mode == "worker":
        await _worker(settings, accounts, sessions)
        await engine.dispose()
        return
    media = MediaStore(settings.data_dir / "media", settings.posts_max_upload_bytes)
    publisher = Publisher(
        settings, sessions, accounts, media, Notifier(settings, None), worker_id("test")
    )
    dispatcher = Dispatcher(settings, sessions, publisher)
    await dispatcher.start()
    while True:
        await asyncio.sleep(0.2)
        if not await _left(sessions):
            break
    await dispatcher.stop()
    await engine.dispose()


async def _left(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(PostTarget).where(PostTarget.status.in_(_OPEN))
        )
    return int(count or 0)


async def _worker(
    settings: Settings, accounts: PublishingAccounts, sessions: async_sessionmaker[AsyncSession]
) -> None:
    worker = asyncio.create_task(
        run_worker(settings, accounts, Notifier(settings, None), install_signal_handlers=False)
    )
    while not worker.done():
        await asyncio.sleep(0.2)
        if not await _left(sessions):
            break
    worker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await worker


def serve(args: list[str]) -> None:
    """The fork server: no event loop, thread or connection exists here, so a fork is clean."""
    print("ready", flush=True)
    for line in sys.stdin:
        command, *rest = line.split()
        if command == "run":
            pid = os.fork()
            if pid == 0:
                os.dup2(2, 1)  # the child's logs go to the log file, not the command pipe
                asyncio.run(main(*args))
                os._exit(0)
            print(pid, flush=True)
        elif command == "wait":
            _, status = os.waitpid(int(rest[0]), 0)
            print(os.waitstatus_to_exitcode(status), flush=True)
        else:
            return


if __name__ == "__main__":
    serve(sys.argv[1:3])
