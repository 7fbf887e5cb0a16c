"""Publishing processes for the kill -9 test, forked on demand from one warm process (so a
round costs the time until the kill, not the imports). Each forked process runs the embedded
dispatcher against the given database and loopback platform until nothing is left to publish
(or it is killed).

    python -m tests.posts.publish_process DATABASE_URL PLATFORM_URL OWNER_ID DATA_DIR

stdin commands, one a line: `run` (answers the new process's pid), `wait PID` (answers its
exit status), `exit`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

from sqlalchemy import func, select

from allin.core.config import Settings
from allin.db.engine import create_engine, create_session_factory
from allin.posts.dispatcher import Dispatcher, worker_id
from allin.posts.media import MediaStore
from allin.posts.models import PostTarget, TargetStatus
from allin.posts.notify import Notifier
from allin.posts.publisher import Publisher
from tests.posts.provider import LoopbackAccounts, LoopbackProvider

_OPEN = (TargetStatus.SCHEDULED, TargetStatus.PUBLISHING, TargetStatus.UNCONFIRMED)


async def main(database_url: str, platform_url: str, owner: str, data_dir: str) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        data_dir=Path(data_dir),
        database_url=database_url,
        posts_lease_seconds=2.0,
        posts_reconcile_grace=0.5,
        posts_reconcile_interval=0.2,
        posts_poll_interval=0.1,
        posts_concurrency=4,
        posts_retry_base=0.1,
    )
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    provider = LoopbackProvider(platform_url)
    accounts = LoopbackAccounts(provider, uuid.UUID(owner))
    media = MediaStore(settings.data_dir / "media", settings.posts_max_upload_bytes)
    publisher = Publisher(
        settings, sessions, accounts, media, Notifier(settings, None), worker_id("test")
    )
    dispatcher = Dispatcher(settings, sessions, publisher)
    await dispatcher.start()
    while True:
        await asyncio.sleep(0.2)
        async with sessions() as session:
            left = await session.scalar(
                select(func.count()).select_from(PostTarget).where(PostTarget.status.in_(_OPEN))
            )
        if not left:
            break
    await dispatcher.stop()
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
