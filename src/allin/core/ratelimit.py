"""Rate limits shared by every domain, on the `limits` library.

Storage is in-process memory by default and Redis when `ALLIN_REDIS_URL` is set, so limits
hold across processes. Usage:

    limiter = rate_limiter(request.app)
    await limiter.enforce("login:ip", client_ip, "20/minute")   # raises RateLimitedError (429)
    result = await limiter.hit("sign:ip", ip, "1000/hour")       # or inspect the result
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from allin.core.domain import app_state
from allin.core.errors import RateLimitedError
from allin.core.units import parse_limit

if TYPE_CHECKING:
    from allin.core.config import Settings


@dataclass(frozen=True, slots=True)
class RateLimitResult:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # epoch seconds when a slot frees up
    retry_after: int  # whole seconds to wait; 0 when allowed

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }

    def raise_if_limited(self, message: str | None = None) -> None:
        if not self.allowed:
            raise RateLimitedError(
                message or "Too many requests, try again later",
                retry_after=self.retry_after,
                details={"limit": self.limit, "retry_after": self.retry_after},
                headers=self.headers(),
            )


class RateLimiter:
    """Moving-window limits keyed by (scope, key). `enabled=False` lets everything through."""

    def __init__(
        self, storage: Storage | None = None, *, enabled: bool = True, prefix: str = "allin"
    ) -> None:
        self.storage = storage or MemoryStorage()
        self.enabled = enabled
        self.prefix = prefix
        self._strategy = MovingWindowRateLimiter(self.storage)

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        storage: Storage
        if settings.redis_url:
            storage = RedisStorage(
                "async+" + settings.redis_url,
                implementation="redispy",
                key_prefix=f"{settings.redis_key_prefix}:ratelimit",
            )
        else:
            storage = MemoryStorage()
        return cls(storage, enabled=settings.rate_limit_enabled, prefix=settings.redis_key_prefix)

    async def hit(self, scope: str, key: str, limit: str, *, cost: int = 1) -> RateLimitResult:
        """Consume `cost` from the window; `allowed` is False (and nothing counted) when full."""
        item = parse_limit(limit)
        if not self.enabled:
            return RateLimitResult(True, item.amount, item.amount, time.time(), 0)
        allowed = await self._strategy.hit(item, scope, key, cost=cost)
        return await self._result(item, scope, key, allowed)

    async def test(self, scope: str, key: str, limit: str, *, cost: int = 1) -> RateLimitResult:
        """Would a hit of `cost` be allowed? Counts nothing."""
        item = parse_limit(limit)
        if not self.enabled:
            return RateLimitResult(True, item.amount, item.amount, time.time(), 0)
        allowed = await self._strategy.test(item, scope, key, cost=cost)
        return await self._result(item, scope, key, allowed)

    async def enforce(
        self, scope: str, key: str, limit: str, *, message: str | None = None
    ) -> RateLimitResult:
        """Hit, and raise RateLimitedError (429 + Retry-After) when over the limit."""
        result = await self.hit(scope, key, limit)
        result.raise_if_limited(message)
        return result

    async def reset(self, scope: str, key: str, limit: str) -> None:
        await self._strategy.clear(parse_limit(limit), scope, key)

    async def close(self) -> None:
        # MemoryStorage keeps an expiry task; Redis keeps a connection pool.
        timer = getattr(self.storage, "timer", None)
        if timer is not None and not timer.done():
            timer.cancel()
        bridge = getattr(self.storage, "bridge", None)
        storage = getattr(bridge, "storage", None)
        if storage is not None and hasattr(storage, "aclose"):
            await storage.aclose()

    async def _result(
        self, item: RateLimitItem, scope: str, key: str, allowed: bool
    ) -> RateLimitResult:
        stats = await self._strategy.get_window_stats(item, scope, key)
        now = time.time()
        retry_after = 0 if allowed else max(1, math.ceil(stats.reset_time - now))
        return RateLimitResult(
            allowed=allowed,
            limit=item.amount,
            remaining=max(0, stats.remaining),
            reset_at=stats.reset_time,
            retry_after=retry_after,
        )


def rate_limiter(app: Any) -> RateLimiter:
    """The app's limiter (`request.app` works too)."""
    return app_state(app).get(RateLimiter)


def _limiter_dep(request: Request) -> RateLimiter:
    return rate_limiter(request.app)


RateLimiterDep = Annotated[RateLimiter, Depends(_limiter_dep)]
