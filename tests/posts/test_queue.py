"""The queue's row guarantees on a real database: one owner per row, and a lease that
expires is the only way another process gets the row (the platform side is in
test_platform_faults, test_processing, test_instagram and test_kill)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from allin.core.clock import clock
from allin.db.engine import create_engine, create_session_factory
from allin.posts import queue
from allin.posts.models import PostTarget
from tests.posts.conftest import add_due_targets


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


async def test_queue_counts(
    sessions: async_sessionmaker[AsyncSession], owner_id: uuid.UUID
) -> None:
    await add_due_targets(sessions, owner_id, 3, clock.now())
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PostTarget)) == 3
