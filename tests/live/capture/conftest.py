from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from allin.app import create_app
from allin.core.config import Settings
from allin.core.domain import app_state
from allin.db.engine import create_engine, create_session_factory
from allin.live.domain import LiveSources
from allin.live.models import LiveSession, Streamer
from tests.live.capture.support import FakeSources, create_schema, create_user


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


@pytest.fixture
def sources() -> FakeSources:
    return FakeSources(live={"demo_streamer", "other_streamer"}, missing={"nobody_here"})


LIVE_TEST_SETTINGS: dict[str, Any] = {
    "password_hash_profile": "test",
    "live_flush_interval": 0.01,
    "live_sse_heartbeat": 0.3,
    "rate_limit_enabled": False,
}


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database_url=database_url, **LIVE_TEST_SETTINGS)


@pytest.fixture
def app(settings: Settings, sources: FakeSources) -> FastAPI:
    app = create_app(settings)
    app_state(app).provide(LiveSources(sources))
    return app


@pytest.fixture
async def alice(client: httpx.AsyncClient, app: FastAPI) -> Any:
    from tests.auth.helpers import signed_in

    return await signed_in(client, app)


@pytest.fixture
async def bob(client: httpx.AsyncClient, app: FastAPI) -> Any:
    from tests.auth.helpers import signed_in

    return await signed_in(client, app)
