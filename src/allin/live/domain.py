"""The LIVE domain: capture, storage, fan-out and the watchlist, started with the app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from allin.core.domain import AppState, Domain, service_check
from allin.live.capture import SourceFactory
from allin.live.router import router
from allin.live.service import LiveService, default_sources


@dataclass(frozen=True, slots=True)
class LiveSources:
    """Where captures connect, when not TikTok itself: provided before start-up (tests,
    benchmarks) to capture from another source."""

    factory: SourceFactory


def live_domain(state: AppState) -> Domain:
    @asynccontextmanager
    async def lifespan(state: AppState) -> AsyncIterator[None]:
        """Starts LIVE once the database is up; on shutdown stops every capture, flushes its
        events and marks its session interrupted."""
        settings = state.settings
        override = state.find(LiveSources)
        sources = override.factory if override else default_sources(settings)
        service = LiveService(settings, state.engine, state.session_factory, sources)
        state.provide(service)
        await service.start()
        try:
            yield
        finally:
            await service.stop()
            state.withdraw(LiveService)

    return Domain(
        name="live",
        routers=(router,),
        health_checks=(service_check("live", LiveService, LiveService.health),),
        lifespan=lifespan,
    )
