"""A circuit breaker per outside service: after enough failures within a period, calls fail
fast for a while, then one probe decides whether the service is back. Every client of an
outside service (TikTok, the social platforms, the AI providers) uses this one."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from allin.core.clock import clock, utcnow
from allin.core.logging import Category, get_logger

log = get_logger(Category.CORE)
R = TypeVar("R")


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


class CircuitBreaker:
    """CLOSED -> (threshold failures within the period) OPEN -> (reset timeout) HALF_OPEN.

    `is_failure` says which errors count against the service (its outages, not our bad
    requests); `open_error` builds what a rejected call raises, given the seconds left."""

    def __init__(
        self,
        config: BreakerConfig | None = None,
        name: str = "breaker",
        *,
        is_failure: Callable[[BaseException], bool],
        open_error: Callable[[float], Exception],
    ) -> None:
        self.config = config or BreakerConfig()
        self.name = name
        self.is_failure = is_failure
        self.open_error = open_error
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
        """Admit a call, or raise `open_error` without calling the service."""
        state = self.state
        if state is CircuitState.OPEN or (
            state is CircuitState.HALF_OPEN and self._probes >= self.config.half_open_max_calls
        ):
            self._rejected += 1
            remaining = self.config.reset_timeout - (clock.monotonic() - self._opened_at)
            raise self.open_error(max(0.0, remaining))
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
            self.release_probe()  # no verdict: the caller gave up, not the service
            raise
        except Exception as exc:
            if self.is_failure(exc):
                self.record_failure()
            else:
                self.record_success()  # the service answered; the request was the problem
            raise
        self.record_success()
        return result

    def release_probe(self) -> None:
        """Frees a half-open probe whose call ended with no verdict (the caller left)."""
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
