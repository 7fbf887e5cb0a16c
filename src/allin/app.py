"""The FastAPI app factory. Domains plug their routers, health checks and start-up in here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from allin import __version__
from allin.ai.runtime import install_ai
from allin.auth.runtime import install_auth
from allin.core.checks import database_check, redis_check
from allin.core.clock import clock
from allin.core.config import Settings, get_settings
from allin.core.docs import OPENAPI_URL, install_docs
from allin.core.gc import install_gc_tuning
from allin.core.handlers import install_exception_handlers
from allin.core.health import HealthRegistry
from allin.core.logging import CORRELATION_HEADER, Category, configure_logging, get_logger
from allin.core.middleware import CorrelationIdMiddleware
from allin.core.ratelimit import install_rate_limiter
from allin.core.router import router as health_router
from allin.core.schemas import ERROR_RESPONSES
from allin.core.tasks import drain_background_tasks
from allin.dashboard.router import install_dashboard
from allin.db.engine import create_engine, create_session_factory
from allin.db.migrate import upgrade_async
from allin.demo import install_demo, prepare_demo
from allin.live.router import router as live_router
from allin.sign.install import install_sign
from allin.sign.router import router as sign_router
from allin.tiktok.bodylimit import RouteBodyLimitMiddleware, tiktok_body_limits
from allin.tiktok.runtime import install_tiktok

log = get_logger(Category.CORE)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    url = settings.effective_database_url
    if settings.migrate_on_startup:
        await upgrade_async(url)
    engine = create_engine(url)
    app.state.engine = engine
    app.state.session_factory = create_session_factory(engine)
    app.state.health.register("database", database_check(engine), critical=True)
    if settings.redis_url:
        app.state.health.register("redis", redis_check(settings.redis_url))
    app.state.started_at = clock.monotonic()
    log.info("started", version=__version__, database=engine.dialect.name)
    try:
        yield
    finally:
        await drain_background_tasks()
        await engine.dispose()
        log.info("stopped")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    demo = None
    if settings.demo:
        settings, demo = prepare_demo(settings)
    configure_logging(settings.log_format, settings.log_level)
    settings.resolved_secret_key()  # generate and persist on first run, before serving
    app = FastAPI(
        title="AllIN",
        version=__version__,
        summary="TikTok LIVE capture, signing, Open API and publishing — self-hosted.",
        lifespan=lifespan,
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
        responses=ERROR_RESPONSES,
    )
    app.state.settings = settings
    app.state.health = HealthRegistry(timeout=settings.health_check_timeout)
    app.state.health_flags = []
    app.state.started_at = clock.monotonic()
    install_exception_handlers(app)
    install_docs(app)
    app.include_router(health_router)
    install_rate_limiter(app)
    install_auth(app)
    install_tiktok(app)
    app.include_router(live_router)
    app.include_router(sign_router)
    install_sign(app)
    install_ai(app)
    install_dashboard(app)
    install_gc_tuning(app)  # after every domain's start-up (the sign routes' p99, capture CPU)
    if demo is not None:
        install_demo(app, demo)  # last: its simulators start before every domain
    # Added last = outermost: correlation ID wraps everything, including CORS and 413s.
    app.add_middleware(
        RouteBodyLimitMiddleware,
        max_body_bytes=settings.max_body_bytes,
        overrides=tiktok_body_limits(settings),  # video uploads only
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
    app.add_middleware(CorrelationIdMiddleware)
    return app
