"""The FastAPI app factory: the domains in start-up order, assembled into one app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from allin import __version__
from allin.ai.domain import ai_domain
from allin.ai.ports import PlatformRules
from allin.auth.domain import auth_domain
from allin.core.clientip import ClientAddressMiddleware, TrustedProxies, parse_networks
from allin.core.clock import clock
from allin.core.config import Settings, ensure_private_dir, get_settings
from allin.core.docs import OPENAPI_URL
from allin.core.domain import AppState, Domain, app_state, assemble
from allin.core.essentials import core_domain
from allin.core.gc import gc_tuning_domain
from allin.core.health import HealthRegistry
from allin.core.logging import CORRELATION_HEADER, Category, configure_logging, get_logger
from allin.core.middleware import ApiHeadersMiddleware, CorrelationIdMiddleware
from allin.core.schemas import ERROR_RESPONSES
from allin.dashboard.router import dashboard_domain
from allin.db.domain import database_domain
from allin.demo import DemoSockets, demo_domain, prepare_demo
from allin.live.domain import live_domain
from allin.posts.domain import posts_domain
from allin.posts.media import MEDIA_UPLOAD_PATH, POST_BODY_PATHS
from allin.posts.ports import PublishingAccounts
from allin.posts.schemas import MAX_POST_BODY
from allin.publishing import SocialPublishingAccounts
from allin.sign.domain import sign_domain
from allin.sign.selftest import SimulatedTikTok
from allin.simulator.live.selftest import SIMULATED_TIKTOK
from allin.simulator.live.simulator import DEMO_STREAMER
from allin.social.domain import social_domain
from allin.social.providers.base import Platform
from allin.social.registry import ProviderFactory
from allin.social.service import SocialAccountsService
from allin.tiktok.bodylimit import RouteBodyLimit, RouteBodyLimitMiddleware, tiktok_body_limits
from allin.tiktok.domain import tiktok_domain
from allin.tiktok.provider import tiktok_provider

log = get_logger(Category.CORE)
DomainFactory = Callable[[AppState], Domain]


def social_providers(settings: Settings) -> dict[Platform, ProviderFactory]:
    """Each platform's provider lives with its platform; the social domain only knows the
    interface."""
    return {Platform.TIKTOK: tiktok_provider(settings)}


def domains(state: AppState, demo: DemoSockets | None) -> list[Domain]:
    """Every domain, in start-up order; shutdown runs in reverse."""
    state.provide(SIMULATED_TIKTOK, SimulatedTikTok)  # the sign self-test's TikTok
    # The publishing queue reaches connected accounts through its port.
    accounts = SocialPublishingAccounts(lambda: state.get(SocialAccountsService))
    state.provide(accounts, PublishingAccounts)
    # The AI writer reads the same providers' content rules through its own port.
    state.provide(accounts, PlatformRules)
    factories: list[DomainFactory] = [
        database_domain,  # the engine, before anything that stores
        core_domain,  # error handlers, health, docs, the shared rate limiter
        auth_domain,
        tiktok_domain,
        lambda state: social_domain(state, providers=social_providers(state.settings)),
        live_domain,
        sign_domain,
        ai_domain,  # after live: a recap reads a capture's analytics
        posts_domain,  # after auth (mail); wires the accounts port if one is provided
        lambda state: dashboard_domain(
            state,
            simulator_streamer=DEMO_STREAMER,
            demo_username=DEMO_STREAMER if demo is not None else None,
        ),
        gc_tuning_domain,  # after every domain's start-up (the sign routes' p99, capture CPU)
    ]
    started = [factory(state) for factory in factories]
    # The simulators come up before every domain and go down after them.
    return [demo_domain(demo), *started] if demo is not None else started


def lifespan_of(parts: list[Domain]) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = app_state(app)
        async with AsyncExitStack() as stack:
            for domain in parts:
                if domain.lifespan is not None:
                    await stack.enter_async_context(domain.lifespan(state))
            state.started_at = clock.monotonic()
            log.info("started", version=__version__, database=state.engine.dialect.name)
            yield
            log.info("stopping")
        log.info("stopped")

    return lifespan


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    demo = None
    if settings.demo:
        settings, demo = prepare_demo(settings)
    configure_logging(settings.log_format, settings.log_level)
    ensure_private_dir(settings.data_dir)
    settings.resolved_secret_key()  # generate and persist on first run, before serving
    state = AppState(
        settings=settings,
        health=HealthRegistry(timeout=settings.health_check_timeout),
        started_at=clock.monotonic(),
    )
    parts = domains(state, demo)
    app = FastAPI(
        title="AllIN",
        version=__version__,
        summary="TikTok LIVE capture, signing, Open API and publishing — self-hosted.",
        lifespan=lifespan_of(parts),
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
        responses=ERROR_RESPONSES,
    )
    app.state.allin = state
    assemble(app, state, parts)
    # Added last = outermost: correlation ID wraps everything, including CORS and 413s.
    app.add_middleware(
        RouteBodyLimitMiddleware,
        max_body_bytes=settings.max_body_bytes,
        overrides=[  # video and media uploads, post bodies
            *tiktok_body_limits(settings),
            RouteBodyLimit("POST", MEDIA_UPLOAD_PATH, settings.posts_max_upload_bytes),
            *(RouteBodyLimit(method, path, MAX_POST_BODY) for method, path in POST_BODY_PATHS),
        ],
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=[CORRELATION_HEADER, "Retry-After"],
        )
    app.add_middleware(ApiHeadersMiddleware)
    app.add_middleware(CorrelationIdMiddleware)
    # Outermost: every layer below sees the client named by a trusted proxy, or the peer.
    trusted = TrustedProxies(parse_networks(settings.trusted_proxies))
    app.add_middleware(ClientAddressMiddleware, trusted=trusted)
    return app
