"""The TikTok domain: routes, the TikTokError handler and the `tiktok` health check. The
service (with every store in the database) starts with the app, then settles publishes a crash
left unfinished in the background, so start-up never waits on TikTok.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from allin.core.breaker import CircuitState
from allin.core.config import Settings
from allin.core.domain import AppState, Domain, service_check
from allin.core.health import ServiceHealth, Status
from allin.core.logging import Category, get_logger
from allin.core.tasks import run_in_background
from allin.tiktok.errors import TikTokError
from allin.tiktok.handlers import handle_tiktok_error
from allin.tiktok.router import admin_router, router, upload_dir
from allin.tiktok.service import TikTokService

log = get_logger(Category.TIKTOK)


async def breaker_health(service: TikTokService) -> ServiceHealth:
    """Degraded while a breaker is OPEN (TikTok calls fail fast); it never calls TikTok."""
    api = service.client.breaker.state
    upload = service.client.upload_breaker.state
    opened = CircuitState.OPEN in (api, upload)
    return ServiceHealth(
        Status.DEGRADED if opened else Status.HEALTHY,
        detail="TikTok circuit breaker open" if opened else None,
        info={
            "configured": service.client.config.configured,
            "circuit_breaker": api.value,
            "upload_circuit_breaker": upload.value,
        },
    )


async def settle_unfinished(service: TikTokService, uploads: Path) -> None:
    """Reconcile journaled publishes by TikTok's status, then drop files nobody needs."""
    settled = await service.reconcile_all()  # logs each publish it could not settle
    removed = await service.sweep_uploads(uploads)
    if settled or removed:
        log.info("tiktok publishes reconciled", publishes=len(settled), files_removed=removed)


def tiktok_domain(state: AppState) -> Domain:
    settings: Settings = state.settings

    @asynccontextmanager
    async def lifespan(state: AppState) -> AsyncIterator[None]:
        service = state.provide(TikTokService.with_database(settings, state.session_factory))
        settling = run_in_background(
            settle_unfinished(service, upload_dir(settings)), name="tiktok-reconcile"
        )
        try:
            yield
        finally:
            settling.cancel()
            await asyncio.wait([settling])  # its failure, if any, is logged already
            await service.aclose()
            state.withdraw(TikTokService)

    return Domain(
        name="tiktok",
        routers=(router, admin_router),
        exception_handlers={TikTokError: handle_tiktok_error},
        health_checks=(service_check("tiktok", TikTokService, breaker_health),),
        lifespan=lifespan,
    )
