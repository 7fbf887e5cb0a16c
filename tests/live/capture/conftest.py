from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from allin.db.engine import create_engine, create_session_factory
from allin.live.models import LiveSession, Streamer
from tests.live.capture.support import create_schema, create_user


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await create_schema(database_url)
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture
async def owner(factory: async_sessionmaker[AsyncSession]) -> uuid.UUID:
    return await create_user(factory)


@pytest.fixture
async def session_row(factory: async_sessionmaker[AsyncSession], owner: uuid.UUID) -> LiveSession:
    """An active session row, as the capture manager would create it."""
    async with factory() as db:
        db.add(Streamer(username="demo_streamer", total_sessions=1))
        await db.flush()
        session = LiveSession(
            owner_id=owner,
            streamer_username="demo_streamer",
            started_at=datetime(2025, 11, 24, 16, 0, tzinfo=UTC),
            status="active",
            streamer_info={},
            counters={},
        )
        db.add(session)
        await db.commit()
        return session
