"""The queue against the real providers and the platforms' simulators: a send whose answer
is lost becomes UNCONFIRMED, then PUBLISHED under the id the platform gave it, and the
platform shows the post once; a platform that never answers about a send ends in a FAILED
target that tells the user to look at the account."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from allin.core.clock import clock
from allin.core.config import Settings
from allin.posts import queue
from allin.posts.media import MediaStore
from allin.posts.models import PostTarget, TargetStatus
from allin.posts.notify import Notifier
from allin.posts.publisher import Publisher
from tests.posts.conftest import add_due_targets
from tests.posts.connected import X_USERS, Connected, connected

TIMEOUT = 0.5  # what the providers wait for an answer
QUEUE = {"posts_reconcile_grace": 0.0, "posts_reconcile_interval": 0.05}
CREATE = {"x": ("x", "tweets.create"), "linkedin": ("linkedin", "posts.create")}
CREATE["facebook"] = ("meta", "page.feed")


@pytest.fixture
async def env(engine: AsyncEngine, base_values: dict[str, Any]) -> AsyncIterator[Connected]:
    async with connected(base_values, social_timeout=TIMEOUT) as running:
        yield running


def _publisher(
    env: Connected, sessions: async_sessionmaker[AsyncSession], **overrides: Any
) -> Publisher:
    settings = Settings(_env_file=None, **{**env.values, **QUEUE, **overrides})  # type: ignore[call-arg]
    media = MediaStore(settings.data_dir / "media", settings.posts_max_upload_bytes)
    return Publisher(
        settings, sessions, env.accounts(), media, Notifier(settings, None), "test-worker"
    )


async def _step(publisher: Publisher, target_id: uuid.UUID) -> TargetStatus | None:
    """One turn of the queue for the target: claim it when due, handle it."""
    due = (await _row(publisher.sessions, target_id)).next_attempt_at
    assert due is not None
    await asyncio.sleep(max(0.0, (due - clock.now()).total_seconds()))
    async with publisher.sessions() as session, session.begin():
        claimed = await queue.claim(
            session, publisher.owner, clock.now(), publisher.lease, 1, target_id
        )
    assert claimed == [target_id]
    return await publisher.run(target_id)


async def _row(sessions: async_sessionmaker[AsyncSession], target_id: uuid.UUID) -> PostTarget:
    async with sessions() as session:
        row = await session.get(PostTarget, target_id)
    assert row is not None
    return row


async def _one_target(
    env: Connected, sessions: async_sessionmaker[AsyncSession], platform: str
) -> tuple[str, uuid.UUID]:
    (account,) = await env.connect(platform)
    (target_id,) = await add_due_targets(
        sessions, env.owner_id, 1, clock.now(), uuid.UUID(account["id"]), platform, "launch day"
    )
    return account["id"], target_id


@pytest.mark.parametrize("platform", ["x", "linkedin", "facebook"])
async def test_a_post_accepted_without_an_answer_is_reconciled_not_reposted(
    env: Connected, sessions: async_sessionmaker[AsyncSession], platform: str
) -> None:
    account_id, target_id = await _one_target(env, sessions, platform)
    publisher = _publisher(env, sessions)
    sim, endpoint = CREATE[platform]
    env.sim(sim).faults.inject(endpoint, "lost_response", delay=TIMEOUT * 3)

    assert await _step(publisher, target_id) is TargetStatus.UNCONFIRMED
    lost = await _row(sessions, target_id)
    assert lost.last_error_code == "SOCIAL_004" and lost.attempts == 1
    assert len(await env.shown(platform, account_id)) == 1  # the platform has it already

    assert await _step(publisher, target_id) is TargetStatus.PUBLISHED
    row = await _row(sessions, target_id)
    shown = await env.shown(platform, account_id)
    assert list(shown) == [row.platform_post_id]
    assert shown[row.platform_post_id] == "launch day 0"
    assert row.attempts == 1 and row.platform_url


async def test_a_throttled_read_back_waits_for_the_window_without_spending_a_check(
    env: Connected, sessions: async_sessionmaker[AsyncSession]
) -> None:
    account_id, target_id = await _one_target(env, sessions, "x")
    publisher = _publisher(env, sessions, posts_reconcile_max=2)
    x = env.sim("x")
    x.faults.inject("tweets.create", "lost_response", delay=TIMEOUT * 3)
    x.faults.inject("users.tweets", "rate_limit")

    assert await _step(publisher, target_id) is TargetStatus.UNCONFIRMED
    before = clock.now()
    assert await _step(publisher, target_id) is TargetStatus.UNCONFIRMED
    row = await _row(sessions, target_id)
    assert row.checks == 0  # a throttled read is no answer about the post
    assert row.next_attempt_at is not None
    assert row.next_attempt_at >= before + timedelta(minutes=14)  # X's window reset
    assert len(await env.shown("x", account_id)) == 1  # never sent twice


async def test_a_new_send_starts_the_count_of_checks_again(
    env: Connected, sessions: async_sessionmaker[AsyncSession]
) -> None:
    account_id, target_id = await _one_target(env, sessions, "x")
    publisher = _publisher(env, sessions, posts_reconcile_max=2, posts_reconcile_grace=0.3)
    env.sim("x").faults.inject("tweets.create", "error", status=503)  # refused: nothing posted

    assert await _step(publisher, target_id) is TargetStatus.UNCONFIRMED
    assert await _step(publisher, target_id) is TargetStatus.UNCONFIRMED  # within the grace
    assert (await _row(sessions, target_id)).checks == 1
    assert await _step(publisher, target_id) is TargetStatus.SCHEDULED  # not there: send again
    assert await _step(publisher, target_id) is TargetStatus.PUBLISHED
    row = await _row(sessions, target_id)
    assert row.checks == 0 and row.attempts == 2
    assert list(await env.shown("x", account_id)) == [row.platform_post_id]


async def test_a_revoked_app_fails_the_target_and_marks_the_account_for_reconnect(
    env: Connected, sessions: async_sessionmaker[AsyncSession]
) -> None:
    account_id, target_id = await _one_target(env, sessions, "x")
    x = env.sim("x")
    x.revoke_user(X_USERS[0].id)  # the user removed the app at x.com
    assert await _step(_publisher(env, sessions), target_id) is TargetStatus.FAILED
    row = await _row(sessions, target_id)
    assert row.last_error_code == "SOCIAL_001"
    assert row.last_error and row.last_error.startswith("Reconnect the account")
    account = await env.client.get(f"/api/social/accounts/{account_id}", headers=env.owner.headers)
    assert account.json()["data"]["status"] == "REVOKED"
    assert x.faults.calls.get("tweets.create", 0) <= 1 and x.user_tweets(X_USERS[0].id) == []


async def test_a_rate_limit_waits_until_the_platform_window_resets(
    env: Connected, sessions: async_sessionmaker[AsyncSession]
) -> None:
    account_id, target_id = await _one_target(env, sessions, "x")
    x = env.sim("x")
    x.faults.inject("tweets.create", "rate_limit")
    before = clock.now()
    assert await _step(_publisher(env, sessions), target_id) is TargetStatus.SCHEDULED
    row = await _row(sessions, target_id)
    assert row.last_error_code == "SOCIAL_003"
    assert row.next_attempt_at is not None
    # X's x-rate-limit-reset: the end of the 15-minute window that began with this call.
    assert before + timedelta(minutes=14) <= row.next_attempt_at
    assert row.next_attempt_at <= before + timedelta(minutes=15, seconds=2)
    assert row.next_attempt_at.isoformat()[:16] in (row.last_error or "")
    assert await env.shown("x", account_id) == {}
