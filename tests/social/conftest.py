"""Fixtures: the app with the social domain, TikTok's Open API simulator standing in for the
platform (over real loopback HTTP), and signed-in users."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from allin.app import create_app
from allin.core.config import Settings
from allin.simulator.open_api import SimulatorConfig
from tests.auth.helpers import SignedIn, signed_in
from tests.support.server import free_port, serve
from tests.tiktok.conftest import Sim, moved, sim, sim_config  # fixtures
from tests.tiktok.routes import sim_settings

__all__ = ["moved", "sim", "sim_config"]


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def sim_config() -> SimulatorConfig:  # noqa: F811
    config = SimulatorConfig(processing_delay=0.05, moderation_delay=0.05, tick_interval=0.02)
    config.redirect_uris.append("http://127.0.0.1:*/api/social/accounts/tiktok/callback")
    return config


@pytest.fixture
def social_settings(
    make_settings: Callable[..., Settings],
    database_url: str,
    sim: Sim,
    port: int,
) -> Callable[..., Settings]:
    def factory(**overrides: Any) -> Settings:
        values = sim_settings(
            sim,
            database_url=database_url,
            public_url=f"http://127.0.0.1:{port}",
            tiktok_retry_attempts=1,
            tiktok_timeout=2,
        )
        values.update(overrides)
        return make_settings(**values)

    return factory


@pytest.fixture
def settings(social_settings: Callable[..., Settings]) -> Settings:
    return social_settings()


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
async def client(app: FastAPI, port: int) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(app, port) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        yield http


@pytest.fixture
async def alice(client: httpx.AsyncClient, app: FastAPI) -> SignedIn:
    return await signed_in(client, app)


@pytest.fixture
async def bob(client: httpx.AsyncClient, app: FastAPI) -> SignedIn:
    return await signed_in(client, app)


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "allin.db"
