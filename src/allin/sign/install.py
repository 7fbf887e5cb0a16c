"""The sign service's one entry point for `create_app`: `install_sign(app)`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI

from allin.core.health import ServiceHealth, Status
from allin.core.ratelimit import rate_limiter
from allin.core.routing import RouteMethods
from allin.sign import api, compat, guide, selftest
from allin.sign.access import (
    FastRoute,
    KeyDirectory,
    SignAccess,
    SignAccessMiddleware,
    is_sign_path,
)
from allin.sign.service import SignService, create_service
from allin.sign.usage import UsageRecorder
from allin.sign.webcast_signing import AlgorithmWebcastSigner


def signer_check(service: SignService) -> Any:
    async def check() -> ServiceHealth:
        ready = await service.ready()
        status = Status.HEALTHY if ready else Status.UNHEALTHY
        detail = None if ready else f"the {service.mode} signer is not ready"
        return ServiceHealth(status, detail=detail, info=service.describe())

    return check


async def seed_health_flags(results: dict[str, ServiceHealth]) -> dict[str, Any]:
    """The top-level fields seed 000's health example shows."""

    def healthy(name: str) -> bool:
        result = results.get(name)
        return result is not None and result.status is Status.HEALTHY

    return {
        "signature_generator_ready": healthy("signer"),
        "database_connected": healthy("database"),
    }


def install_sign(app: FastAPI) -> None:
    settings = app.state.settings
    service = create_service(settings)
    usage = UsageRecorder(interval=settings.sign_usage_flush_interval)
    keys = KeyDirectory(lambda: app.state.session_factory, settings.sign_key_cache_ttl)
    access = SignAccess(settings, rate_limiter(app), keys, usage, lambda: set(service.selftests))
    app.state.sign, app.state.sign_access = service, access
    app.state.webcast_fetcher_factory = service.fetcher  # the fetch routes use our signer
    if service.mode == "algorithm":
        app.state.webcast_signer = AlgorithmWebcastSigner()
    for router in (api.router, compat.router, selftest.router, guide.router):
        app.include_router(router)
    fast: dict[str, FastRoute] = {p: partial(api.seed_answer_raw, service) for p in api.SEED_PATHS}
    app.add_middleware(
        SignAccessMiddleware,
        access=lambda: getattr(app.state, "sign_access", None),
        fast_routes=fast,
        routes=RouteMethods(lambda: app.routes, where=is_sign_path),
    )
    app.state.health.register("signer", signer_check(service))
    app.state.health_flags.append(seed_health_flags)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with inner(app_) as state:
            await service.start()
            usage.start(app.state.session_factory)
            try:
                yield state
            finally:
                await usage.stop()
                await service.close()

    app.router.lifespan_context = lifespan
