"""Per-app auth state (hasher, mail backend, Redis client) and its installation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from allin.auth.email import EmailBackend, create_email_backend
from allin.auth.passwords import Passwords
from allin.auth.sessions import DatabaseSessionStore, SessionStore
from allin.core.config import Settings
from allin.core.logging import Category, get_logger

log = get_logger(Category.AUTH)
_STATE_KEY = "auth"


@dataclass
class AuthRuntime:
    settings: Settings
    passwords: Passwords
    mailer: EmailBackend
    redis: Redis | None = field(default=None)

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthRuntime:
        if settings.env == "production" and settings.password_hash_profile == "test":  # noqa: S105
            raise RuntimeError("ALLIN_PASSWORD_HASH_PROFILE=test is refused in production")
        if settings.session_store == "redis" and not settings.redis_url:
            raise RuntimeError("ALLIN_SESSION_STORE=redis needs ALLIN_REDIS_URL")
        if settings.env == "production" and settings.email_backend == "console":
            log.warning("console email backend in production: links are only logged")
        redis = None
        if settings.session_store == "redis" and settings.redis_url:
            redis = Redis.from_url(settings.redis_url)
        return cls(
            settings=settings,
            passwords=Passwords(settings.password_hash_profile),
            mailer=create_email_backend(settings),
            redis=redis,
        )

    def session_store(self, db: AsyncSession) -> SessionStore:
        if self.redis is not None:
            from allin.auth.sessions_redis import RedisSessionStore

            return RedisSessionStore(self.redis, self.settings)
        return DatabaseSessionStore(db, self.settings)

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


def auth_runtime(app: FastAPI) -> AuthRuntime:
    runtime: AuthRuntime = getattr(app.state, _STATE_KEY)
    return runtime


def install_auth(app: FastAPI) -> None:
    """Routers, runtime state and clean-up: the one line `create_app` calls."""
    from allin.auth.router import admin_router, auth_router, profile_router

    runtime = AuthRuntime.from_settings(app.state.settings)
    setattr(app.state, _STATE_KEY, runtime)
    app.include_router(auth_router)
    app.include_router(admin_router)
    app.include_router(profile_router)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with inner(app_) as state:
            try:
                yield state
            finally:
                await runtime.close()

    app.router.lifespan_context = lifespan
