"""The AI service's life in the app: started with the database, its alert sweep, its health."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.ai.service import AiService
from allin.core.config import Settings
from allin.core.health import ServiceHealth, Status
from allin.core.logging import Category, get_logger

log = get_logger(Category.AI)
STATE_KEY = "ai_service"


def ai_service(request_or_app: Any) -> AiService:
    app = getattr(request_or_app, "app", request_or_app)
    service: AiService = getattr(app.state, STATE_KEY)
    return service


async def _sweep(service: AiService, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await service.send_due_alerts()
        except Exception as exc:  # the next sweep tries again
            log.warning("ai alert sweep failed", error=type(exc).__name__)


@asynccontextmanager
async def running_ai(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[AiService]:
    service = AiService(settings, session_factory)
    sweep = asyncio.create_task(_sweep(service, settings.ai_alert_interval), name="ai-alerts")
    log.info("ai providers", providers=[p["name"] for p in service.chain.status()])
    try:
        yield service
    finally:
        sweep.cancel()
        with suppress(asyncio.CancelledError):
            await sweep
        await service.aclose()


async def provider_health(service: AiService) -> ServiceHealth:
    """Per provider: configured, breaker state, last success. Degraded (never critical)
    when none is configured or every breaker is open."""
    providers = service.chain.status()
    if not providers:
        return ServiceHealth(
            Status.DEGRADED, detail="no AI provider configured", info={"providers": []}
        )
    status = Status.HEALTHY if service.chain.usable() else Status.DEGRADED
    return ServiceHealth(status, info={"providers": [{**p, "configured": True} for p in providers]})


def install_ai(app: Any) -> None:
    """Routes, the `ai` health check, and the service started after the database."""
    from allin.ai.router import router

    settings: Settings = app.state.settings
    app.include_router(router)

    async def check() -> ServiceHealth:
        service = getattr(app.state, STATE_KEY, None)
        if service is None:
            return ServiceHealth(Status.DEGRADED, detail="not started")
        return await provider_health(service)

    app.state.health.register("ai", check, critical=False)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with inner(app_) as state, running_ai(settings, app.state.session_factory) as svc:
            setattr(app.state, STATE_KEY, svc)
            yield state

    app.router.lifespan_context = lifespan
