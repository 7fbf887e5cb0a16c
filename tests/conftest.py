from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from allin.app import create_app
from allin.core.config import Settings
from tests.support.databases import POSTGRES_ENV, REDIS_ENV, backends, fresh_database
from tests.support.server import serve

# Two shared cores: a wall-clock deadline per example measures the neighbours, not the code.
# Examples still run; only the timing verdicts are off (a test may set its own).
hypothesis_settings.register_profile(
    "allin", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("allin")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Database tests run once per available backend (SQLite always, PostgreSQL in CI).
    # A test marked `postgres` needs PostgreSQL itself (procrastinate): that backend only.
    if "db_backend" in metafunc.fixturenames:
        needs_postgres = metafunc.definition.get_closest_marker("postgres") is not None
        metafunc.parametrize("db_backend", ["postgres"] if needs_postgres else backends())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Tests that need a real Redis or PostgreSQL run where one is named (CI); elsewhere they
    # are deselected (reported as such), never faked.
    absent = [
        marker
        for marker, env in (("redis", REDIS_ENV), ("postgres", POSTGRES_ENV))
        if not os.environ.get(env)
    ]
    keep = [item for item in items if not any(item.get_closest_marker(m) for m in absent)]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep


@pytest.fixture
def redis_url() -> str:
    return os.environ[REDIS_ENV]


@pytest.fixture
def db_backend() -> str:
    return "sqlite"  # replaced by parametrisation


@pytest.fixture
async def database_url(db_backend: str, tmp_path: Path) -> AsyncIterator[str]:
    async with fresh_database(db_backend, tmp_path) as url:
        yield url


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "env": "test",
            "data_dir": tmp_path / "var",
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'allin.db'}",
            "log_format": "json",
            "redis_url": None,
            "secret_key": "test-secret-key-not-for-production",
            "password_hash_profile": "test",  # fast argon2 in tests; production refuses it
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return factory


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database_url=database_url)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        yield http
