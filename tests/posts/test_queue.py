"""The queue's guarantees on a real database and a real (loopback) platform: one owner per
row, a send whose answer is lost is reconciled instead of repeated, and every platform error
lands in the state it calls for."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from allin.core.clock import clock
from allin.core.config import Settings
from allin.db.engine import create_engine, create_session_factory
from allin.posts import queue
from allin.posts.media import MediaStore
from allin.posts.models import Notification, PostTarget, TargetStatus
from allin.posts.notify import Notifier
from allin.posts.publisher import Publisher
from tests.posts.conftest import add_due_targets
from tests.posts.platform import PlatformState
from tests.posts.provider import LoopbackAccounts, LoopbackProvider


def _publisher(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    provider: LoopbackProvider,
    owner_id: uuid.UUID,
    name: str = "test-worker",
) -> tuple[Publisher, LoopbackAccounts]:
    accounts = LoopbackAccounts(provider, owner_id)
    media = MediaStore(settings.data_dir / "media", settings.posts_max_upload_bytes)
    publisher = Publisher(settings, sessions, accounts, media, Notifier(settings, None), name)
    return publisher, accounts


async def _claim_all(publisher: Publisher) -> list[uuid.UUID]:
    async with publisher.sessions() as session, session.begin():
        return await queue.claim(session, publisher.owner, clock.now(), publisher.lease, 1000)


async def _target(sessions: async_sessionmaker[AsyncSession], target_id: uuid.UUID) -> PostTarget:
    async with sessions() as session:
        target = await session.get(PostTarget, target_id)
        assert target is not None
        return target


async def test_two_dispatchers_never_claim_the_same_row(
    engine: AsyncEngine,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    owner_id: uuid.UUID,
) -> None:
    ids = await add_due_targets(sessions, owner_id, 300, clock.now() - timedelta(seconds=1))
    second_engine = create_engine(database_url)
    try:
        factories = [sessions, create_session_factory(second_engine)]

        async def grab(index: int) -> list[uuid.UUID]:
            got: list[uuid.UUID] = []
            while True:
                async with factories[index % 2]() as session, session.begin():
                    batch = await queue.claim(
                        session, f"d{index}", clock.now(), timedelta(minutes=1), 7
                    )
                if not batch:
                    return got
                got.extend(batch)

        results = await asyncio.gather(*(grab(i) for i in range(4)))
    finally:
        await second_engine.dispose()
    claimed = [row for batch in results for row in batch]
    assert len(claimed) == len(set(claimed)) == len(ids)
    assert set(claimed) == set(ids)


async def test_an_expired_lease_is_claimable_again_and_a_live_one_is_not(
    sessions: async_sessionmaker[AsyncSession], owner_id: uuid.UUID
) -> None:
    (target_id,) = await add_due_targets(sessions, owner_id, 1, clock.now())
    now = clock.now()
    async with sessions() as session, session.begin():
        assert await queue.claim(session, "a", now, timedelta(seconds=10), 5) == [target_id]
        assert await queue.claim(session, "b", now, timedelta(seconds=10), 5) == []
        later = now + timedelta(seconds=11)
        assert await queue.claim(session, "b", later, timedelta(seconds=10), 5) == [target_id]
        # "a" lost its lease: it may no longer send
        assert not await queue.mark_sending(session, target_id, "a", later, timedelta(seconds=10))
        assert await queue.mark_sending(session, target_id, "b", later, timedelta(seconds=10))


async def test_a_platform_that_times_out_after_accepting_is_reconciled_not_reposted(
    make_settings: Callable[..., Settings],
    sessions: async_sessionmaker[AsyncSession],
    owner_id: uuid.UUID,
    platform: tuple[PlatformState, str],
) -> None:
    state, url = platform
    settings = make_settings(posts_reconcile_grace=0)
    provider = LoopbackProvider(url, timeout=0.3)
    publisher, _ = _publisher(settings, sessions, provider, owner_id)
    (target_id,) = await add_due_targets(sessions, owner_id, 1, clock.now())
    state.hang_after_accept = 1.0
    try:
        assert await _claim_all(publisher) == [target_id]
        assert await publisher.run(target_id) is TargetStatus.UNCONFIRMED
        unconfirmed = await _target(sessions, target_id)
        assert unconfirmed.last_error_code == "SOCIAL_004"
        assert unconfirmed.sent_at is not None and unconfirmed.attempts == 1
        state.hang_after_accept = 0
        assert await _claim_all(publisher) == [target_id]
        assert await publisher.run(target_id) is TargetStatus.PUBLISHED
    finally:
        await provider.aclose()
    published = await _target(sessions, target_id)
    assert len(state.posts) == 1
    assert published.platform_post_id == state.posts[0]["id"]
    assert published.platform_url == f"https://platform.test/p/{state.posts[0]['id']}"
    assert published.attempts == 1


async def test_a_lost_send_is_retried_once_the_platform_shows_nothing(
    make_settings: Callable[..., Settings],
    sessions: async_sessionmaker[AsyncSession],
    owner_id: uuid.UUID,
    platform: tuple[PlatformState, str],
) -> None:
    state, url = platform
    settings = make_settings(posts_reconcile_grace=0)
    provider = LoopbackProvider(url)
    publisher, _ = _publisher(settings, sessions, provider, owner_id)
    (target_id,) = await add_due_targets(sessions, owner_id, 1, clock.now())
    state.fail_with = (503, {"message": "unavailable"})  # refused before recording
    try:
        await _claim_all(publisher)
        assert await publisher.run(target_id) is TargetStatus.UNCONFIRMED
        state.fail_with = None
        await _claim_all(publisher)
        assert await publisher.run(target_id) is TargetStatus.SCHEDULED  # not on the platform
        await _claim_all(publisher)
        assert await publisher.run(target_id) is TargetStatus.PUBLISHED
    finally:
        await provider.aclose()
    assert len(state.posts) == 1
    assert (await _target(sessions, target_id)).attempts == 2


async def _run_with_failure(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    owner_id: uuid.UUID,
    platform: tuple[PlatformState, str],
    status: int,
    body: dict[str, Any],
) -> tuple[PostTarget, LoopbackAccounts]:
    state, url = platform
    provider = LoopbackProvider(url)
    publisher, accounts = _publisher(settings, sessions, provider, owner_id)
    (target_id,) = await add_due_targets(sessions, owner_id, 1, clock.now())
    state.fail_with = (status, body)
    try:
        await _claim_all(publisher)
        await publisher.run(target_id)
    finally:
        await provider.aclose()
    return await _target(sessions, target_id), accounts


async def test_a_rejection_fails_at_once_with_the_platform_words_and_notifies(
    make_settings: Callable[..., Settings],
    sessions: async_sessionmaker[AsyncSession],
    owner_id: uuid.UUID,
    platform: tuple[PlatformState, str],
) -> None:
    target, _ = await _run_with_failure(
        make_settings(), sessions, owner_id, platform, 422, {"message": "Duplicate content"}
    )
    assert target.status == TargetStatus.FAILED
    assert target.last_error_code == "CONTENT_003"
    assert target.last_error == "Duplicate content"
    async with sessions() as session:
        notes = (await session.scalars(select(Notification))).all()
    assert [n.target_id for n in notes] == [target.id]
    assert target.notified_at is not None


async def test_an_auth_error_marks_the_account_for_reconnect(
    make_settings: Callable[..., Settings],
    sessions: async_sessionmaker[AsyncSession],
    owner_id: uuid.UUID,
    platform: tuple[PlatformState, str],
) -> None:
    target, accounts = await _run_with_failure(
        make_settings(), sessions, owner_id, platform, 401, {"message": "token revoked"}
    )
    assert target.status == TargetStatus.FAILED
    assert target.last_error_code == "SOCIAL_001"
    assert accounts.reconnect == [target.account_id]


async def test_a_rate_limit_waits_for_the_window_with_its_reset_time(
    make_settings: Callable[..., Settings],
    sessions: async_sessionmaker[AsyncSession],
    owner_id: uuid.UUID,
    platform: tuple[PlatformState, str],
) -> None:
    state, url = platform

    before = clock.now()
    state.fail_with = (429, {"message": "slow down"})  # with Retry-After: 120
    provider = LoopbackProvider(url)
    publisher, _ = _publisher(make_settings(), sessions, provider, owner_id)
    (target_id,) = await add_due_targets(sessions, owner_id, 1, clock.now())
    try:
        await _claim_all(publisher)
        status = await publisher.run(target_id)
    finally:
        await provider.aclose()
    target = await _target(sessions, target_id)
    assert status is TargetStatus.SCHEDULED
    assert target.last_error_code == "SOCIAL_003"
    assert target.next_attempt_at is not None
    assert target.next_attempt_at >= before + timedelta(seconds=119)
    assert target.next_attempt_at.isoformat()[:16] in (target.last_error or "")
    assert len(state.posts) == 0


async def test_queue_counts(
    sessions: async_sessionmaker[AsyncSession], owner_id: uuid.UUID
) -> None:
    await add_due_targets(sessions, owner_id, 3, clock.now())
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PostTarget)) == 3
