"""The AI domain: its routes, the `ai` health check (per provider: configured, breaker state,
last success) and the service, started once the database is up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from allin.ai.ports import PlatformRules
from allin.ai.router import router
from allin.ai.runtime import provider_health, running_ai
from allin.ai.service import AiService
from allin.core.domain import AppState, Domain, service_check


def ai_domain(state: AppState) -> Domain:
    @asynccontextmanager
    async def lifespan(state: AppState) -> AsyncIterator[None]:
        # The platforms' content rules come from the social domain, wired by the composer.
        rules: PlatformRules | None = state.find(PlatformRules)  # type: ignore[type-abstract]
        async with running_ai(state.settings, state.session_factory, rules) as service:
            state.provide(service)
            try:
                yield
            finally:
                state.withdraw(AiService)

    return Domain(
        name="ai",
        routers=(router,),
        health_checks=(service_check("ai", AiService, provider_health),),
        lifespan=lifespan,
    )
