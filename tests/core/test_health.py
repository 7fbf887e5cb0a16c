"""Health: healthy on a working database, 503 when it is unreachable, degraded when an
optional service (Redis) is down."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from allin.app import create_app
from allin.core.config import Settings
from allin.core.health import HealthRegistry, ServiceHealth, Status
from tests.support.server import free_port, serve


async def test_healthy_with_database(client: httpx.AsyncClient, db_backend: str) -> None:
    response = await client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["services"]["database"]["status"] == "healthy"
    assert body["services"]["database"]["backend"] == (
        "sqlite" if db_backend == "sqlite" else "postgresql"
    )
    assert body["version"] and body["uptime"] >= 0 and body["timestamp"]
    assert body["data"]["status"] == "healthy"
    assert response.headers["cache-control"] == "no-store"


async def test_database_health_reports_latency(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health/database")
    assert response.status_code == 200
    assert response.json()["data"]["latency_ms"] >= 0


async def test_unknown_service_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health/nothing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_unreachable_database_is_unhealthy_503(
    make_settings: Callable[..., Settings],
) -> None:
    dead = f"postgresql+asyncpg://nobody:x@127.0.0.1:{free_port()}/none"
    app = create_app(
        make_settings(database_url=dead, migrate_on_startup=False, health_check_timeout=1.0)
    )
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        response = await http.get("/api/health")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unhealthy"
        assert body["success"] is False
        assert body["services"]["database"]["status"] == "unhealthy"
        assert (await http.get("/api/health/database")).status_code == 503


async def test_unreachable_redis_is_degraded_not_down(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        response = await http.get("/api/health")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "degraded"
        assert body["services"]["redis"]["status"] == "unhealthy"
        assert body["services"]["database"]["status"] == "healthy"


@pytest.mark.redis
async def test_reachable_redis_is_healthy(
    make_settings: Callable[..., Settings], redis_url: str
) -> None:
    app = create_app(make_settings(redis_url=redis_url))
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        body = (await http.get("/api/health")).json()
        assert body["status"] == "healthy"
        assert body["services"]["redis"]["status"] == "healthy"


async def test_slow_check_times_out_and_health_stays_fast() -> None:
    import asyncio

    registry = HealthRegistry(timeout=0.05)

    async def slow() -> ServiceHealth:
        await asyncio.sleep(10)
        return ServiceHealth(Status.HEALTHY)

    registry.register("slow", slow, critical=True)
    status, results = await asyncio.wait_for(registry.run_all(), 1)
    assert status is Status.UNHEALTHY
    assert "timed out" in (results["slow"].detail or "")


async def test_health_is_fast(client: httpx.AsyncClient) -> None:
    import time

    await client.get("/api/health")
    started = time.perf_counter()
    for _ in range(10):
        assert (await client.get("/api/health")).status_code == 200
    assert (time.perf_counter() - started) / 10 < 0.05
