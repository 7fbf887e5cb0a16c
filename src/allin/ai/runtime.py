"""The AI service's life in the app: started with the database, its alert sweep, its health."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.ai.ports import PlatformRules
from allin.ai.service import AiService
from allin.core.config import Settings
from allin.core.health import ServiceHealth, Status
from allin.core.logging import Category, get_logger

log = get_logger(Category.AI)


async def _sweep(service: AiService, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await service.alerts.sweep()
        except Exception as exc:  # the next sweep tries again
            log.warning("ai alert sweep failed", error=type(exc).__name__)


@asynccontextmanager
async def running_ai(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    platform_rules: PlatformRules | None = None,
) -> AsyncIterator[AiService]:
    service = AiService(settings, session_factory, platform_rules=platform_rules)
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
    when every breaker is open; without providers the feature is off, which is healthy."""
    providers = service.chain.status()
    if not providers:
        return ServiceHealth(
            Status.HEALTHY,
            detail="no AI provider configured",
            info={"configured": False, "providers": []},
        )
    status = Status.HEALTHY if service.chain.usable() else Status.DEGRADED
    listed = [{**p, "configured": True} for p in providers]
    return ServiceHealth(status, info={"configured": True, "providers": listed})
