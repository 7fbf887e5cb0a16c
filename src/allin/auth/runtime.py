"""Per-app auth state: the password hasher, the mail backend and the Redis client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from allin.auth.email import EmailBackend, create_email_backend
from allin.auth.passwords import Passwords
from allin.auth.sessions import DatabaseSessionStore, SessionStore
from allin.core.config import Settings
from allin.core.domain import app_state
from allin.core.logging import Category, get_logger

log = get_logger(Category.AUTH)


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


def auth_runtime(app: Any) -> AuthRuntime:
    """The running auth runtime of an app (`request.app` works too)."""
    return app_state(app).get(AuthRuntime)
