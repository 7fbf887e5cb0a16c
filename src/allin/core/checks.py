"""Health checks for the shared infrastructure: database and Redis."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from allin.core.clock import clock
from allin.core.health import HealthCheck, ServiceHealth, Status


def database_check(engine: AsyncEngine) -> HealthCheck:
    async def check() -> ServiceHealth:
        started = clock.monotonic()
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        latency = round((clock.monotonic() - started) * 1000, 2)
        return ServiceHealth(
            Status.HEALTHY, latency_ms=latency, info={"backend": engine.dialect.name}
        )

    return check


def redis_check(url: str) -> HealthCheck:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)

    async def check() -> ServiceHealth:
        started = clock.monotonic()
        await client.ping()
        return ServiceHealth(
            Status.HEALTHY, latency_ms=round((clock.monotonic() - started) * 1000, 2)
        )

    return check
