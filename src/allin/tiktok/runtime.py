"""Plugging the TikTok integration into the app: `install_tiktok(app)` is the one call.

Routes, the TikTokError handler and the `tiktok` health check are added at once; the service
(with every store in the database) starts with the app, then settles publishes a crash left
unfinished in the background, so start-up never waits on TikTok.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from allin.core.config import Settings
from allin.core.health import HealthCheck, ServiceHealth, Status
from allin.core.logging import Category, get_logger
from allin.core.tasks import run_in_background
from allin.tiktok.errors import TikTokError
from allin.tiktok.handlers import handle_tiktok_error
from allin.tiktok.resilience import CircuitState
from allin.tiktok.router import admin_router, router, upload_dir
from allin.tiktok.service import TikTokService

log = get_logger(Category.TIKTOK)
STATE_KEY = "tiktok"


def tiktok_service(app: FastAPI) -> TikTokService | None:
    service: TikTokService | None = getattr(app.state, STATE_KEY, None)
    return service


def breaker_check(app: FastAPI) -> HealthCheck:
    """Degraded while a breaker is OPEN (TikTok calls fail fast); it never calls TikTok."""

    async def check() -> ServiceHealth:
        service = tiktok_service(app)
        if service is None:
            return ServiceHealth(Status.DEGRADED, detail="not started")
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

    return check


async def settle_unfinished(service: TikTokService, uploads: Path) -> None:
    """Reconcile journaled publishes by TikTok's status, then drop files nobody needs."""
    settled = await service.reconcile_all()  # logs each publish it could not settle
    removed = await service.sweep_uploads(uploads)
    if settled or removed:
        log.info("tiktok publishes reconciled", publishes=len(settled), files_removed=removed)


def install_tiktok(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    app.include_router(router)
    app.include_router(admin_router)
    app.add_exception_handler(TikTokError, handle_tiktok_error)
    app.state.health.register("tiktok", breaker_check(app), critical=False)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with inner(app_) as state:
            service = TikTokService.with_database(settings, app.state.session_factory)
            setattr(app.state, STATE_KEY, service)
            settling = run_in_background(
                settle_unfinished(service, upload_dir(settings)), name="tiktok-reconcile"
            )
            try:
                yield state
            finally:
                settling.cancel()
                await asyncio.wait([settling])  # its failure, if any, is logged already
                await service.aclose()

    app.router.lifespan_context = lifespan
