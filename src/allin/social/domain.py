"""The social domain: accounts routes, the admin bulk refresh, `/api/health/external-apis`,
and a background job that refreshes tokens before they expire and reminds owners of tokens the
platform cannot renew (LinkedIn). Providers come from whoever composes the app (`providers`);
this domain imports no platform's code of its own beyond the interface."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from allin.auth.email import create_email_backend
from allin.core.crypto import cipher_from_settings
from allin.core.domain import AppState, Domain, service_check
from allin.core.health import ServiceHealth, Status
from allin.core.tasks import run_in_background
from allin.social.providers.base import Platform
from allin.social.registry import ProviderFactory, ProviderRegistry
from allin.social.router import admin_router, router
from allin.social.schemas import PLATFORM_NAMES, ExternalApiOut
from allin.social.service import SocialAccountsService


def external_apis(service: SocialAccountsService) -> list[ExternalApiOut]:
    """Each platform: configured, its circuit breaker, its last successful and failed call."""
    out = []
    for platform in Platform:
        provider = service.registry.built(platform)
        breaker = getattr(provider, "breaker", None) if provider is not None else None
        state = getattr(breaker, "state", None)
        health = service.health[platform]
        out.append(
            ExternalApiOut(
                platform=platform.value,
                name=PLATFORM_NAMES[platform.value],
                configured=service.registry.configured(platform),
                circuit_breaker=str(getattr(state, "value", state)) if state else None,
                last_success_at=health.last_success_at,
                last_failure_at=health.last_failure_at,
            )
        )
    return out


async def external_apis_health(service: SocialAccountsService) -> ServiceHealth:
    """`GET /api/health/external-apis`: degraded while a platform's breaker is open. It never
    calls a platform."""
    platforms = external_apis(service)
    opened = [p.platform for p in platforms if p.circuit_breaker == "OPEN"]
    return ServiceHealth(
        Status.DEGRADED if opened else Status.HEALTHY,
        detail=f"circuit breaker open: {', '.join(opened)}" if opened else None,
        info={"platforms": [p.model_dump(mode="json") for p in platforms]},
    )


def social_domain(
    state: AppState, providers: Mapping[Platform, ProviderFactory] | None = None
) -> Domain:
    settings = state.settings

    @asynccontextmanager
    async def lifespan(state: AppState) -> AsyncIterator[None]:
        registry = ProviderRegistry.from_settings(settings, providers)
        service = SocialAccountsService(
            settings,
            state.session_factory,
            registry,
            cipher_from_settings(settings),
            create_email_backend(settings),
        )
        state.provide(service)
        # In the background: start-up never waits on the database or a platform.
        interval = settings.social_refresh_interval.total_seconds()
        job = run_in_background(service.run_periodically(interval), name="social-refresh")
        try:
            yield
        finally:
            job.cancel()
            await asyncio.wait([job])
            await service.aclose()
            state.withdraw(SocialAccountsService)

    return Domain(
        name="social",
        routers=(router, admin_router),
        health_checks=(
            service_check("external-apis", SocialAccountsService, external_apis_health),
        ),
        lifespan=lifespan,
    )
