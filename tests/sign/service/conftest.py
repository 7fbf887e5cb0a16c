"""Fixtures of the sign service tests: a TikTok simulator on loopback and AllIN apps whose
TikTok hosts point at it, plus users with API keys."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from allin.app import create_app
from allin.auth.api_keys import create_api_key
from allin.auth.models import ApiKey, User
from allin.core.clock import utcnow
from allin.core.config import Settings
from allin.core.domain import app_state
from allin.simulator.live.server import RunningSimulator, run_simulator
from allin.simulator.live.simulator import Simulator
from tests.auth.helpers import create_user
from tests.support.server import serve

SAMPLE_URL = "https://www.tiktok.com/@testuser/live"


@pytest.fixture
def sim() -> Simulator:
    return Simulator()


@pytest.fixture
async def running_sim(sim: Simulator) -> AsyncIterator[RunningSimulator]:
    async with run_simulator(sim, log_level="warning") as running:
        yield running


@pytest.fixture
def sign_settings(
    make_settings: Callable[..., Settings], database_url: str, running_sim: RunningSimulator
) -> Callable[..., Settings]:
    """Settings for an app on this test's database, TikTok's hosts on the simulator."""

    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "password_hash_profile": "test",
            "sign_key_cache_ttl": 0,
            "tiktok_web_url": running_sim.urls.web,
            "tiktok_webcast_url": running_sim.urls.webcast,
            "log_level": "WARNING",
        }
        values.update(overrides)
        return make_settings(**values)

    return factory


Served = tuple[FastAPI, httpx.AsyncClient]


@pytest.fixture
def served(
    sign_settings: Callable[..., Settings],
) -> Callable[..., AbstractAsyncContextManager[Served]]:
    """`async with served(**settings) as (app, client)`: the app over real HTTP."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Served]:
        app = create_app(sign_settings(**overrides))
        async with serve(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as client:
            yield app, client

    return start


async def make_key(
    app: FastAPI, *, plan: str = "free", revoked: bool = False
) -> tuple[str, uuid.UUID, uuid.UUID]:
    """(raw key, key id, user id) for a new ACTIVE user on `plan`."""
    user_id = await create_user(app)
    async with app_state(app).session_factory() as db:
        user = await db.get(User, user_id)
        assert user is not None
        user.plan = plan
        key, raw = await create_api_key(db, user, "test key", None)
        if revoked:
            key.revoked_at = utcnow()
        await db.commit()
        key_id = key.id
    return raw, key_id, user_id


async def key_row(app: FastAPI, key_id: uuid.UUID) -> ApiKey | None:
    async with app_state(app).session_factory() as db:
        return await db.get(ApiKey, key_id)
