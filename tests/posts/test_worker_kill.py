"""Kill -9 `allin worker` processes (procrastinate, PostgreSQL) at random moments across 200
due targets, restart them, repeat; at the end every target is PUBLISHED and the platform
holds each post exactly once. Killed workers leave jobs `doing` and rows leased or
PUBLISHING: the stalled-job retry, the lease sweep and the reconciler must take them back.

5 rounds by default; ALLIN_TEST_KILL_ROUNDS=20 for the long version.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.core.clock import clock
from allin.posts.models import PostTarget, TargetStatus
from allin.posts.tasks import create_queue_app, defer_publish
from tests.posts.conftest import add_due_targets
from tests.posts.platform import PlatformState
from tests.posts.worker_process import worker_settings
from tests.support.databases import fresh_database

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = int(os.environ.get("ALLIN_TEST_KILL_ROUNDS", "5"))
WORKERS = 2
TOTAL = 200

pytestmark = pytest.mark.postgres


@pytest.fixture
async def database_url(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with fresh_database("postgres", tmp_path) as url:
        yield url


class WorkerForkServer:
    """Drives `tests.posts.worker_process`: forks worker processes, waits for them."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.posts.worker_process", *args],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log.open("ab"),
        )  # fmt: skip

    async def _ask(self, command: str | None, seconds: float = 60) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        if command is not None:
            self.process.stdin.write(f"{command}\n".encode())
            self.process.stdin.flush()
        line = await asyncio.wait_for(asyncio.to_thread(self.process.stdout.readline), seconds)
        return line.decode().strip()

    async def ready(self) -> None:
        assert await self._ask(None) == "ready"

    async def run(self) -> int:
        return int(await self._ask("run"))

    async def wait(self, pid: int, seconds: float) -> int:
        return int(await self._ask(f"wait {pid}", seconds))

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture
def rng() -> random.Random:
    seed = int(os.environ.get("ALLIN_TEST_KILL_SEED", random.randrange(1 << 30)))
    print(f"kill seed {seed}")
    return random.Random(seed)


async def _stuck(sessions: async_sessionmaker[AsyncSession]) -> list[object]:
    async with sessions() as session:
        left = (await session.scalars(select(PostTarget))).all()
    return [
        (r.status, r.next_attempt_at, r.lease_owner, r.lease_expires_at, r.last_error)
        for r in left if r.status != TargetStatus.PUBLISHED
    ]  # fmt: skip


async def _until_more_than(state: PlatformState, count: int, seconds: float) -> None:
    deadline = clock.monotonic() + seconds
    while len(state.posts) <= count and len(state.posts) < TOTAL:
        assert clock.monotonic() < deadline, "the workers sent nothing"
        await asyncio.sleep(0.01)


@pytest.mark.timeout(600)
async def test_kill_9_workers_at_random_points_publishes_every_target_exactly_once(
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    owner_id: uuid.UUID,
    platform: tuple[PlatformState, str],
    tmp_path: Path,
    rng: random.Random,
) -> None:
    state, url = platform
    state.latency = 0.1  # ~80 posts/s from two workers: a round's kills land mid-batch
    ids: list[uuid.UUID] = []
    for account in [uuid.uuid4() for _ in range(5)]:
        ids += await add_due_targets(sessions, owner_id, TOTAL // 5, clock.now(), account)
    # As the app does right after the commit: one job per row.
    jobs = create_queue_app(worker_settings(database_url, tmp_path / "var"), pool_size=1)
    async with jobs.open_async():
        for target_id in ids:
            await defer_publish(jobs, target_id, clock.now())
    args = [database_url, url, str(owner_id), str(tmp_path / "var")]
    log = tmp_path / "workers.log"
    server = WorkerForkServer(args, log)
    try:
        await server.ready()
        mid_batch = 0  # kills that hit workers with posts left to send
        for _ in range(ROUNDS):
            sent = len(state.posts)
            pids = [await server.run() for _ in range(WORKERS)]
            # Kill once the workers are sending (not while they start up), at random moments.
            await _until_more_than(state, sent, seconds=30)
            for pid in pids:  # each at its own random moment
                await asyncio.sleep(rng.uniform(0.0, 0.4))
                mid_batch += len(state.posts) < len(ids)
                os.kill(pid, signal.SIGKILL)  # no clean-up of any kind
            for pid in pids:
                assert await server.wait(pid, 10) == -signal.SIGKILL
        published_before_the_last_run = len(state.posts)
        print(f"published before the last run: {published_before_the_last_run}")
        pids = [await server.run() for _ in range(WORKERS)]
        codes = []
        for pid in pids:
            try:
                codes.append(await server.wait(pid, 90))
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)
                codes.append(None)
        if codes != [0] * WORKERS:
            tail = log.read_text(errors="replace")[-3000:]
            stuck = await _stuck(sessions)
            pytest.fail(f"the last run did not finish ({codes}): {stuck[:3]}\n{tail}")
    finally:
        server.close()
    print(f"kills that landed mid-batch: {mid_batch}")
    assert mid_batch >= WORKERS  # the kills did interrupt the batch

    async with sessions() as session:
        rows = (await session.scalars(select(PostTarget))).all()
    assert {row.status for row in rows} == {TargetStatus.PUBLISHED}
    counts = state.count_by_key()
    assert sorted(counts.values()) == [1] * len(ids)
    by_key = {post["key"]: post["id"] for post in state.posts}
    assert all(row.platform_post_id == by_key[row.idempotency_key] for row in rows)
