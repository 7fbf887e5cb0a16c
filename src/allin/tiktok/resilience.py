"""Retries (the project's `RetryPolicy`: backoff with jitter, Retry-After on 429) and a circuit
breaker, with TikTok's judgement of which failures may be tried again.

The breaker counts only failures that say TikTok is unhealthy (network, timeout, 5xx); a 400 or
a 401 is TikTok working correctly. Time comes from `allin.core.clock`, so tests move it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from allin.core.breaker import BreakerConfig, CircuitBreaker
from allin.core.config import Settings
from allin.core.retry import Retry, RetryPolicy
from allin.tiktok.errors import CircuitOpenError, TikTokError, TikTokErrorType

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


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        attempts=settings.tiktok_retry_attempts,
        timeout=settings.tiktok_retry_timeout,
        wait_initial=settings.tiktok_retry_wait_initial,
        wait_max=settings.tiktok_retry_wait_max,
        wait_jitter=settings.tiktok_retry_wait_jitter,
        retry_after_max=settings.tiktok_retry_after_max,
    )


def should_retry(error: Exception, *, idempotent: bool) -> Retry | None:
    """Whether a failed call may be tried again, and after TikTok's own wait if it named one.

    A non-idempotent call (a PULL_FROM_URL post) is retried only when TikTok surely did not act
    on it: a 429, or a connection that never opened. An open breaker is not retried: it already
    says when TikTok may be asked again.
    """
    if not isinstance(error, TikTokError) or isinstance(error, CircuitOpenError):
        return None
    if not error.retryable:
        return None
    if not idempotent and error.code != "rate_limit_exceeded" and not error.not_sent:
        return None
    return Retry(error.retry_after)


class Resilience:
    """Every TikTok call goes through here: breaker inside, retries outside."""

    def __init__(self, policy: RetryPolicy | None = None, breaker: CircuitBreaker | None = None):
        self.policy = policy or RetryPolicy()
        self.breaker = breaker or tiktok_breaker()

    async def call(self, fn: Callable[[], Awaitable[R]], *, idempotent: bool = True) -> R:
        return await self.policy.call(
            lambda: self.breaker.call(fn),
            lambda error: should_retry(error, idempotent=idempotent),
        )
