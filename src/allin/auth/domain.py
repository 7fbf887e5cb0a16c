"""The auth domain: accounts, sessions, API keys and the admin routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from allin.auth.router import admin_router, auth_router, profile_router
from allin.auth.runtime import AuthRuntime
from allin.core.domain import AppState, Domain


def auth_domain(state: AppState) -> Domain:
    runtime = state.provide(AuthRuntime.from_settings(state.settings))

    @asynccontextmanager
    async def lifespan(state: AppState) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await runtime.close()

    return Domain(
        name="auth",
        routers=(auth_router, admin_router, profile_router),
        lifespan=lifespan,
    )
