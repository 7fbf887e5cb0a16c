"""The core's own domain, first after the database: the error envelope's handlers, the health
and docs routes, and the rate limiter every domain shares."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from allin.core.docs import docs_router, docs_static
from allin.core.domain import AppState, Domain
from allin.core.handlers import EXCEPTION_HANDLERS
from allin.core.ratelimit import RateLimiter
from allin.core.router import router as health_router


def core_domain(state: AppState) -> Domain:
    limiter = state.provide(RateLimiter.from_settings(state.settings))

    @asynccontextmanager
    async def lifespan(state: AppState) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await limiter.close()

    return Domain(
        name="core",
        routers=(health_router, docs_router),
        mounts=(docs_static,),
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
