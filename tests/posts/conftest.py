from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from allin.auth.models import User, UserStatus
from allin.db import migrate
from allin.db.engine import create_engine, create_session_factory
from allin.posts.models import Post, PostTarget, TargetStatus
from tests.posts.platform import PlatformState, platform_app
from tests.support.server import serve


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await asyncio.to_thread(migrate.upgrade, database_url, "head")
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture
async def owner_id(sessions: async_sessionmaker[AsyncSession]) -> uuid.UUID:
    return await add_user(sessions)


async def add_user(sessions: async_sessionmaker[AsyncSession]) -> uuid.UUID:
    user = User(
        email=f"{uuid.uuid4().hex[:8]}@example.com",
        password_hash="x",
        display_name="Creator",
        status=UserStatus.ACTIVE,
    )
    async with sessions() as session, session.begin():
        session.add(user)
    return user.id


@pytest.fixture
async def platform() -> AsyncIterator[tuple[PlatformState, str]]:
    state = PlatformState()
    async with serve(platform_app(state)) as url:
        yield state, url


async def add_due_targets(
    sessions: async_sessionmaker[AsyncSession],
    owner_id: uuid.UUID,
    count: int,
    due: datetime,
    account_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    ids = []
    async with sessions() as session, session.begin():
        for index in range(count):
            post = Post(owner_id=owner_id, content=f"post {index}", timezone="UTC")
            session.add(post)
            await session.flush()
            target = PostTarget(
                post_id=post.id,
                owner_id=owner_id,
                account_id=account_id or uuid.uuid4(),
                platform="linkedin",
                status=TargetStatus.SCHEDULED,
                scheduled_at=due,
                next_attempt_at=due,
            )
            session.add(target)
            await session.flush()
            ids.append(target.id)
    return ids
