"""Retries (stamina: exponential backoff + jitter, Retry-After on 429) and a circuit breaker.

The breaker counts only failures that say TikTok is unhealthy (network, timeout, 5xx); a 400 or
a 401 is TikTok working correctly. Time comes from `allin.core.clock`, so tests move it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

import stamina

from allin.core.clock import clock, utcnow
from allin.core.config import Settings
from allin.core.logging import Category, get_logger
from allin.tiktok.errors import CircuitOpenError, TikTokError, TikTokErrorType

log = get_logger(Category.TIKTOK)
R = TypeVar("R")

_UNHEALTHY = frozenset(
    {TikTokErrorType.NETWORK_ERROR, TikTokErrorType.TIMEOUT_ERROR, TikTokErrorType.SERVER_ERROR}
)


class CircuitState(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    failure_threshold: int = 5
    reset_timeout: float = 60.0
    monitoring_period: float = 120.0
    half_open_max_calls: int = 1

    @classmethod
    def from_settings(cls, settings: Settings) -> BreakerConfig:
        return cls(
            failure_threshold=settings.tiktok_breaker_failure_threshold,
            reset_timeout=settings.tiktok_breaker_reset_timeout,
            monitoring_period=settings.tiktok_breaker_monitoring_period,
        )


@dataclass(frozen=True, slots=True)
class CircuitBreakerStats:
    state: CircuitState
    failures: int  # within the monitoring period
    successes: int
    total_calls: int
    rejected_calls: int
    times_opened: int
    last_failure_time: datetime | None
    last_state_change: datetime


def counts_as_failure(error: BaseException) -> bool:
    return (
        isinstance(error, TikTokError)
        and not isinstance(error, CircuitOpenError)
        and error.type in _UNHEALTHY
    )


class CircuitBreaker:
    """CLOSED -> (threshold failures within the period) OPEN -> (reset timeout) HALF_OPEN."""

    def __init__(self, config: BreakerConfig | None = None, name: str = "tiktok") -> None:
        self.config = config or BreakerConfig()
        self.name = name
        self.reset()

    def reset(self) -> None:
        self._state = CircuitState.CLOSED
        self._failures: deque[float] = deque()
        self._opened_at = 0.0
        self._probes = 0
        self._successes = 0
        self._total = 0
        self._rejected = 0
        self._times_opened = 0
        self._last_failure: datetime | None = None
        self._last_change = utcnow()

    @property
    def state(self) -> CircuitState:
        if (
            self._state is CircuitState.OPEN
            and clock.monotonic() - self._opened_at >= self.config.reset_timeout
        ):
            self._move(CircuitState.HALF_OPEN)
        return self._state

    def stats(self) -> CircuitBreakerStats:
        state = self.state
        self._prune(clock.monotonic())
        return CircuitBreakerStats(
            state=state,
            failures=len(self._failures),
            successes=self._successes,
            total_calls=self._total,
            rejected_calls=self._rejected,
            times_opened=self._times_opened,
            last_failure_time=self._last_failure,
            last_state_change=self._last_change,
        )

    def before_call(self) -> None:
        """Admit a call or raise CircuitOpenError without calling TikTok."""
        state = self.state
        if state is CircuitState.OPEN or (
            state is CircuitState.HALF_OPEN and self._probes >= self.config.half_open_max_calls
        ):
            self._rejected += 1
            remaining = self.config.reset_timeout - (clock.monotonic() - self._opened_at)
            raise CircuitOpenError(retry_after=max(0.0, remaining))
        if state is CircuitState.HALF_OPEN:
            self._probes += 1
        self._total += 1

    def record_success(self) -> None:
        self._successes += 1
        if self._state is CircuitState.HALF_OPEN:
            self._failures.clear()
            self._move(CircuitState.CLOSED)

    def record_failure(self) -> None:
        now = clock.monotonic()
        self._last_failure = utcnow()
        if self._state is CircuitState.HALF_OPEN:
            self._open(now)
            return
        self._failures.append(now)
        self._prune(now)
        if (
            self._state is CircuitState.CLOSED
            and len(self._failures) >= self.config.failure_threshold
        ):
            self._open(now)

    async def call(self, fn: Callable[[], Awaitable[R]]) -> R:
        self.before_call()
        try:
            result = await fn()
        except asyncio.CancelledError:
            self._release_probe()  # no verdict: the caller gave up, not TikTok
            raise
        except Exception as exc:
            if counts_as_failure(exc):
                self.record_failure()
            else:
                self.record_success()  # TikTok answered; the request was the problem
            raise
        self.record_success()
        return result

    def _release_probe(self) -> None:
        if self._state is CircuitState.HALF_OPEN and self._probes > 0:
            self._probes -= 1

    def _open(self, now: float) -> None:
        self._opened_at = now
        self._times_opened += 1
        self._move(CircuitState.OPEN)

    def _move(self, state: CircuitState) -> None:
        if state is self._state:
            return
        log.warning("circuit breaker state change", breaker=self.name, old=self._state, new=state)
        self._state = state
        self._probes = 0
        self._last_change = utcnow()

    def _prune(self, now: float) -> None:
        horizon = now - self.config.monitoring_period
        while self._failures and self._failures[0] < horizon:
            self._failures.popleft()


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
        self.breaker = breaker or CircuitBreaker()

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
