"""Retries (stamina: exponential backoff + jitter, Retry-After on 429) and a circuit breaker.

The breaker counts only failures that say TikTok is unhealthy (network, timeout, 5xx); a 400 or
a 401 is TikTok working correctly. Time comes from `allin.core.clock`, so tests move it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import stamina

from allin.core.breaker import BreakerConfig, CircuitBreaker
from allin.core.config import Settings
from allin.core.logging import Category, get_logger
from allin.tiktok.errors import CircuitOpenError, TikTokError, TikTokErrorType

log = get_logger(Category.TIKTOK)
R = TypeVar("R")

_UNHEALTHY = frozenset(
    {TikTokErrorType.NETWORK_ERROR, TikTokErrorType.TIMEOUT_ERROR, TikTokErrorType.SERVER_ERROR}
)


def breaker_config(settings: Settings) -> BreakerConfig:
    return BreakerConfig(
        failure_threshold=settings.tiktok_breaker_failure_threshold,
        reset_timeout=settings.tiktok_breaker_reset_timeout,
        monitoring_period=settings.tiktok_breaker_monitoring_period,
    )


def counts_as_failure(error: BaseException) -> bool:
    return (
        isinstance(error, TikTokError)
        and not isinstance(error, CircuitOpenError)
        and error.type in _UNHEALTHY
    )


def tiktok_breaker(config: BreakerConfig | None = None, name: str = "tiktok") -> CircuitBreaker:
    return CircuitBreaker(
        config,
        name,
        is_failure=counts_as_failure,
        open_error=lambda remaining: CircuitOpenError(retry_after=remaining),
    )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    timeout: float = 60.0
    wait_initial: float = 0.5
    wait_max: float = 10.0
    wait_jitter: float = 1.0
    retry_after_max: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            attempts=settings.tiktok_retry_attempts,
            timeout=settings.tiktok_retry_timeout,
            wait_initial=settings.tiktok_retry_wait_initial,
            wait_max=settings.tiktok_retry_wait_max,
            wait_jitter=settings.tiktok_retry_wait_jitter,
            retry_after_max=settings.tiktok_retry_after_max,
        )


def retry_decision(error: Exception, policy: RetryPolicy, *, idempotent: bool) -> bool | float:
    """stamina's backoff hook: False = give up, True = exponential backoff, float = wait this long.

    A non-idempotent call (a PULL_FROM_URL post) is retried only when TikTok surely did not act
    on it: a 429, or a connection that never opened.
    """
    if not isinstance(error, TikTokError) or isinstance(error, CircuitOpenError):
        return False
    if not error.retryable:
        return False
    if not idempotent and error.code != "rate_limit_exceeded" and not error.not_sent:
        return False
    if error.retry_after is not None:
        if error.retry_after > policy.retry_after_max:
            return False  # longer than we are willing to hold the caller: surface it
        return float(error.retry_after)
    return True


class Resilience:
    """Every TikTok call goes through here: breaker inside, retries outside."""

    def __init__(self, policy: RetryPolicy | None = None, breaker: CircuitBreaker | None = None):
        self.policy = policy or RetryPolicy()
        self.breaker = breaker or tiktok_breaker()

    async def call(self, fn: Callable[[], Awaitable[R]], *, idempotent: bool = True) -> R:
        policy = self.policy

        def hook(error: Exception) -> bool | float:
            return retry_decision(error, policy, idempotent=idempotent)

        async for attempt in stamina.retry_context(
            on=hook,
            attempts=policy.attempts,
            timeout=policy.timeout,
            wait_initial=policy.wait_initial,
            wait_max=policy.wait_max,
            wait_jitter=policy.wait_jitter,
        ):
            with attempt:
                return await self.breaker.call(fn)
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover
