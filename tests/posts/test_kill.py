"""Kill -9 the publishing process at random moments across 200 due targets on X (two
accounts), LinkedIn, a Facebook Page and Instagram, restart it, repeat; at the end every target is
PUBLISHED and each platform shows each post exactly once, under the id we recorded.

The accounts are connected through each platform's OAuth consent by the app, the publishing
processes use the real providers, and the counts come from the platforms' read endpoints
(X: GET /2/users/:id/tweets; LinkedIn: posts by author; Meta: /{page-id}/feed and
/{ig-user-id}/media).

The same with two `allin worker` processes (procrastinate) on PostgreSQL.

5 rounds by default; ALLIN_TEST_KILL_ROUNDS=20 for the long version.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.core.clock import clock
from allin.posts.models import Post, PostTarget, TargetStatus
from allin.posts.tasks import create_queue_app, defer_publish
from tests.posts.conftest import add_due_targets
from tests.posts.connected import X_USERS, Connected, square_jpeg
from tests.posts.publish_process import settings_of

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = int(os.environ.get("ALLIN_TEST_KILL_ROUNDS", "5"))


class ForkServer:
    """Drives `tests.posts.publish_process`: forks publishing processes, waits for them."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.posts.publish_process", *args],
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


async def _targets(
    platforms: Connected, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> list[tuple[str, str, list[uuid.UUID]]]:
    """(platform, account id, target ids): 50 + 50 on X, 45 on LinkedIn, 35 on a Facebook
    Page, 20 photos on Instagram (within its 50 a day)."""
    plan: list[tuple[str, dict[str, Any], int]] = []
    for user, count in zip(X_USERS, (50, 50), strict=True):
        (account,) = await platforms.connect("x", as_user=user.username)
        plan.append(("x", account, count))
    (linkedin,) = await platforms.connect("linkedin")
    (page,) = await platforms.connect("facebook")
    (instagram,) = await platforms.connect("instagram")
    plan += [("linkedin", linkedin, 45), ("facebook", page, 35), ("instagram", instagram, 20)]
    owner, now = platforms.owner_id, clock.now()
    made = []
    for platform, account, count in plan:
        account_id = uuid.UUID(account["id"])
        text = f"{platform} {account['username'] or account['display_name']} update"
        ids = await add_due_targets(sessions, owner, count, now, account_id, platform, text)
        made.append((platform, account["id"], ids))
    photo = await platforms.client.post(
        "/api/media", content=square_jpeg(tmp_path), headers=platforms.owner.headers
    )
    assert photo.status_code == 201, photo.text
    async with sessions() as session, session.begin():
        posts = select(PostTarget.post_id).where(PostTarget.id.in_(made[-1][2]))
        await session.execute(
            update(Post).where(Post.id.in_(posts)).values(media_ids=[photo.json()["data"]["id"]])
        )
    return made


@pytest.mark.timeout(600)
async def test_kill_9_at_random_points_publishes_every_target_exactly_once(
    sessions: async_sessionmaker[AsyncSession],
    platforms: Connected,
    tmp_path: Path,
    rng: random.Random,
) -> None:
    """The embedded dispatcher (`allin serve`), on SQLite and PostgreSQL."""
    await _kill_rounds("embedded", 1, sessions, platforms, tmp_path, rng)


@pytest.mark.postgres
@pytest.mark.timeout(600)
async def test_kill_9_workers_at_random_points_publishes_every_target_exactly_once(
    sessions: async_sessionmaker[AsyncSession],
    platforms: Connected,
    tmp_path: Path,
    rng: random.Random,
) -> None:
    """Two `allin worker` processes (procrastinate on PostgreSQL): killed workers leave jobs
    `doing` and rows leased or PUBLISHING; the stalled-job retry, the lease sweep and the
    reconciler take them back."""
    await _kill_rounds("worker", 2, sessions, platforms, tmp_path, rng)


async def _kill_rounds(
    mode: str,
    processes: int,
    sessions: async_sessionmaker[AsyncSession],
    platforms: Connected,
    tmp_path: Path,
    rng: random.Random,
) -> None:
    targets = await _targets(platforms, sessions, tmp_path)
    platforms.sim("meta").config.fetch_urls = True  # Instagram fetches the photo from us
    total = sum(len(ids) for _, _, ids in targets)
    assert total == 200
    # The platforms answer a post in ~20 ms: 200 posts take seconds, so kills land mid-batch.
    for name, endpoint in _CREATE:
        platforms.sim(name).faults.inject(endpoint, "slow", delay=0.02, times=10_000)
    if mode == "worker":  # as `allin serve` does right after the commit: a job per row
        await _defer_jobs(platforms.values, [i for _, _, ids in targets for i in ids])
    log = tmp_path / "publisher.log"
    server = ForkServer([json.dumps(platforms.values), mode], log)
    mid_batch = 0  # kills that hit a process with posts left to send
    try:
        await server.ready()
        for _ in range(ROUNDS):
            before = await _published(sessions)
            if before == total:  # every post went out: nothing left to interrupt
                break
            pids = [await server.run() for _ in range(processes)]
            await _until_sending(sessions, before, total)  # not while it starts up
            for pid in pids:  # each at its own random moment
                await asyncio.sleep(rng.uniform(0.0, 0.5))
                mid_batch += await _published(sessions) < total
                os.kill(pid, signal.SIGKILL)  # no clean-up of any kind
            for pid in pids:
                code = await server.wait(pid, 10)
                # A process that found nothing left to send before its kill ends cleanly.
                assert code == -signal.SIGKILL or (
                    code == 0 and await _published(sessions) == total
                )
        print(f"published before the last run: {await _published(sessions)}")
        pids = [await server.run() for _ in range(processes)]
        codes = []
        for pid in pids:
            try:
                codes.append(await server.wait(pid, 90))
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)
                codes.append(None)
        if codes != [0] * processes:
            async with sessions() as session:
                left = (await session.scalars(select(PostTarget))).all()
            stuck = [
                (r.status, r.next_attempt_at, r.lease_owner, r.last_error_code, r.last_error)
                for r in left if r.status != TargetStatus.PUBLISHED
            ]  # fmt: skip
            tail = log.read_text(errors="replace")[-3000:]
            pytest.fail(f"the last run did not finish ({codes}): {stuck[:3]}\n{tail}")
    finally:
        server.close()
    print(f"kills that landed mid-batch: {mid_batch}")
    assert mid_batch >= processes  # the kills did interrupt the batch

    async with sessions() as session:
        rows = {row.id: row for row in (await session.scalars(select(PostTarget))).all()}
    failed = [
        (r.platform, r.last_error) for r in rows.values() if r.status != TargetStatus.PUBLISHED
    ]
    assert not failed
    for platform, account_id, ids in targets:
        shown = await platforms.shown(platform, account_id)
        texts = Counter(shown.values())
        assert len(shown) == len(ids), (platform, len(shown), len(ids))
        for target_id in ids:
            row = rows[target_id]
            assert row.platform_post_id in shown, (platform, row.platform_post_id)
            assert texts[shown[row.platform_post_id]] == 1


async def _defer_jobs(values: dict[str, Any], ids: list[uuid.UUID]) -> None:
    jobs = create_queue_app(settings_of(json.dumps(values), "worker"), pool_size=1)
    async with jobs.open_async():
        for target_id in ids:
            await defer_publish(jobs, target_id, clock.now())


async def _until_sending(
    sessions: async_sessionmaker[AsyncSession], before: int, total: int, seconds: float = 30
) -> None:
    deadline = clock.monotonic() + seconds
    while (done := await _published(sessions)) <= before and done < total:
        assert clock.monotonic() < deadline, "nothing was published"
        await asyncio.sleep(0.02)


_CREATE = [
    ("x", "tweets.create"),
    ("linkedin", "posts.create"),
    ("meta", "page.feed"),
    ("meta", "ig.media_publish"),
]


async def _published(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        rows = (await session.scalars(select(PostTarget))).all()
    return sum(1 for row in rows if row.status == TargetStatus.PUBLISHED)
