"""The database as the first domain to start and the last to stop: migrations, the engine,
the session factory and the `database` health check (critical)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from allin.core.checks import database_check, redis_check
from allin.core.domain import AppState, Domain, HealthCheckSpec
from allin.core.health import HealthCheck, ServiceHealth
from allin.core.logging import Category, get_logger
from allin.core.tasks import drain_background_tasks
from allin.db.engine import create_engine, create_session_factory
from allin.db.migrate import upgrade_async

log = get_logger(Category.CORE)


def _database_health(state: AppState) -> HealthCheck:
    async def check() -> ServiceHealth:
        return await database_check(state.engine)()

    return check


def database_domain(state: AppState) -> Domain:
    settings = state.settings
    checks = [HealthCheckSpec("database", _database_health, critical=True)]
    if settings.redis_url:
        redis_url = settings.redis_url
        checks.append(HealthCheckSpec("redis", lambda _: redis_check(redis_url)))

    @asynccontextmanager
    async def lifespan(state: AppState) -> AsyncIterator[None]:
        url = settings.effective_database_url
        if settings.migrate_on_startup:
            await upgrade_async(url)
        engine = create_engine(url)
        state.open_database(engine, create_session_factory(engine))
        log.info("database ready", database=engine.dialect.name)
        try:
            yield
        finally:
            await drain_background_tasks()  # they may still write
            await engine.dispose()

    return Domain(name="database", health_checks=tuple(checks), lifespan=lifespan)
