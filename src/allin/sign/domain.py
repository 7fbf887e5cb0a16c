"""The sign domain: the EulerStream-compatible signing routes, the fetch routes, keys and
quotas (a middleware in front of every sign path), usage and the compatibility self-test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from starlette.middleware import Middleware

from allin.core.domain import AppState, Domain, HealthCheckSpec
from allin.core.health import ServiceHealth, Status
from allin.core.ratelimit import RateLimiter
from allin.sign import api, compat, guide, router, selftest
from allin.sign.access import (
    FastRoute,
    KeyDirectory,
    SignAccess,
    SignAccessMiddleware,
)
from allin.sign.service import SignService, create_service
from allin.sign.usage import UsageRecorder


def signer_check(service: SignService) -> Any:
    async def check() -> ServiceHealth:
        ready = await service.ready()
        status = Status.HEALTHY if ready else Status.UNHEALTHY
        detail = None if ready else f"the {service.mode} signer is not ready"
        return ServiceHealth(status, detail=detail, info=service.describe())

    return check


async def euler_health_fields(results: dict[str, ServiceHealth]) -> dict[str, Any]:
    """The top-level fields EulerStream-style health monitors read."""

    def healthy(name: str) -> bool:
        result = results.get(name)
        return result is not None and result.status is Status.HEALTHY

    return {
        "signature_generator_ready": healthy("signer"),
        "database_connected": healthy("database"),
    }


def sign_domain(state: AppState) -> Domain:
    settings = state.settings
    service = state.provide(create_service(settings))
    usage = UsageRecorder(interval=settings.sign_usage_flush_interval)
    keys = KeyDirectory(lambda: state.session_factory, settings.sign_key_cache_ttl)
    limiter = state.get(RateLimiter)
    access = state.provide(
        SignAccess(settings, limiter, keys, usage, lambda: set(service.selftests))
    )
    fast: dict[str, FastRoute] = {
        p: partial(api.euler_answer_raw, service) for p in api.EULER_SIGN_PATHS
    }

    @asynccontextmanager
    async def lifespan(state: AppState) -> AsyncIterator[None]:
        await service.start()
        usage.start(state.session_factory)
        try:
            yield
        finally:
            await usage.stop()
            await service.close()

    return Domain(
        name="sign",
        routers=(router.router, api.router, compat.router, selftest.router, guide.router),
        middleware=(
            Middleware(
                SignAccessMiddleware,
                access=lambda: access,
                fast_routes=fast,
            ),
        ),
        health_checks=(HealthCheckSpec("signer", lambda _: signer_check(service)),),
        health_fields=(euler_health_fields,),
        lifespan=lifespan,
    )
