"""`allin worker` processes for the kill -9 test, forked on demand from one warm process (so
a round costs the time until the kill, not the imports). Each forked process runs the same
procrastinate worker as `allin worker` (`allin.posts.worker.run_worker`), publishing to the
loopback platform, until no target is left open (or it is killed).

    python -m tests.posts.worker_process DATABASE_URL PLATFORM_URL OWNER_ID DATA_DIR

stdin commands, one a line: `run` (answers the new process's pid), `wait PID` (answers its
exit status), `exit`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import uuid
from pathlib import Path

from sqlalchemy import func, select

from allin.core.config import Settings
from allin.db.engine import create_engine, create_session_factory
from allin.posts.models import PostTarget, TargetStatus
from allin.posts.notify import Notifier
from allin.posts.worker import run_worker
from tests.posts.provider import LoopbackAccounts, LoopbackProvider

_OPEN = (TargetStatus.SCHEDULED, TargetStatus.PUBLISHING, TargetStatus.UNCONFIRMED)


def worker_settings(database_url: str, data_dir: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        data_dir=data_dir,
        database_url=database_url,
        queue="procrastinate",
        posts_lease_seconds=2.0,
        posts_reconcile_grace=0.5,
        posts_reconcile_interval=0.2,
        posts_poll_interval=0.2,
        posts_concurrency=4,
        posts_retry_base=0.1,
        posts_worker_heartbeat=0.5,
        posts_stalled_after=1.5,
    )


async def main(database_url: str, platform_url: str, owner: str, data_dir: str) -> None:
    settings = worker_settings(database_url, Path(data_dir))
    provider = LoopbackProvider(platform_url)
    accounts = LoopbackAccounts(provider, uuid.UUID(owner))
    worker = asyncio.create_task(
        run_worker(settings, accounts, Notifier(settings, None), install_signal_handlers=False)
    )
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    sessions = create_session_factory(engine)
    while not worker.done():
        await asyncio.sleep(0.2)
        async with sessions() as session:
            left = await session.scalar(
                select(func.count()).select_from(PostTarget).where(PostTarget.status.in_(_OPEN))
            )
        if not left:
            break
    worker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await worker
    await provider.aclose()
    await engine.dispose()


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
    serve(sys.argv[1:5])
