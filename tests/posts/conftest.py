from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from allin.auth.models import User, UserStatus
from allin.db import migrate
from allin.db.engine import create_engine, create_session_factory
from allin.posts.models import Post, PostTarget, TargetStatus
from tests.posts.connected import Connected, connected
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
def base_values(tmp_path: Path, database_url: str) -> dict[str, Any]:
    """The tests' settings as plain values (a publishing process rebuilds them)."""
    return {
        "env": "test",
        "data_dir": str(tmp_path / "var"),
        "database_url": database_url,
        "log_format": "json",
        "redis_url": None,
        "secret_key": "test-secret-key-not-for-production",
        "password_hash_profile": "test",
    }


@pytest.fixture
async def platforms(engine: AsyncEngine, base_values: dict[str, Any]) -> AsyncIterator[Connected]:
    """X, LinkedIn and Meta simulators with the app connecting accounts to them."""
    async with connected(base_values) as env:
        yield env


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
    platform: str = "linkedin",
    text: str = "post",
) -> list[uuid.UUID]:
    ids = []
    async with sessions() as session, session.begin():
        for index in range(count):
            post = Post(owner_id=owner_id, content=f"{text} {index}", timezone="UTC")
            session.add(post)
            await session.flush()
            target = PostTarget(
                post_id=post.id,
                owner_id=owner_id,
                account_id=account_id or uuid.uuid4(),
                platform=platform,
                status=TargetStatus.SCHEDULED,
                scheduled_at=due,
                next_attempt_at=due,
            )
            session.add(target)
            await session.flush()
            ids.append(target.id)
    return ids
