"""Kill -9 the publishing process at random moments across 200 due targets on X (two
accounts), LinkedIn, a Facebook Page and Instagram, restart it, repeat; at the end every target is
PUBLISHED and each platform shows each post exactly once, under the id we recorded.

The accounts are connected through each platform's OAuth consent by the app, the publishing
processes use the real providers, and the counts come from the platforms' read endpoints
(X: GET /2/users/:id/tweets; LinkedIn: posts by author; Meta: /{page-id}/feed and
/{ig-user-id}/media).

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
from tests.posts.conftest import add_due_targets
from tests.posts.connected import X_USERS, Connected, square_jpeg

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
    targets = await _targets(platforms, sessions, tmp_path)
    platforms.sim("meta").config.fetch_urls = True  # Instagram fetches the photo from us
    total = sum(len(ids) for _, _, ids in targets)
    assert total == 200
    # The platforms answer a post in ~20 ms: 200 posts take seconds, so kills land mid-batch.
    for name, endpoint in _CREATE:
        platforms.sim(name).faults.inject(endpoint, "slow", delay=0.02, times=10_000)
    log = tmp_path / "publisher.log"
    server = ForkServer([json.dumps(platforms.values)], log)
    try:
        await server.ready()
        for _ in range(ROUNDS):
            pid = await server.run()
            await asyncio.sleep(rng.uniform(0.05, 0.6))
            os.kill(pid, signal.SIGKILL)  # no clean-up of any kind
            assert await server.wait(pid, 10) == -signal.SIGKILL
        published_before_the_last_run = await _published(sessions)
        pid = await server.run()
        try:
            code = await server.wait(pid, 90)
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)
            code = None
        if code != 0:
            async with sessions() as session:
                left = (await session.scalars(select(PostTarget))).all()
            stuck = [
                (r.status, r.next_attempt_at, r.lease_owner, r.last_error_code, r.last_error)
                for r in left if r.status != TargetStatus.PUBLISHED
            ]  # fmt: skip
            tail = log.read_text(errors="replace")[-3000:]
            pytest.fail(f"the last run did not finish ({code}): {stuck[:3]}\n{tail}")
    finally:
        server.close()
    assert published_before_the_last_run < total  # the kills did interrupt the batch

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
