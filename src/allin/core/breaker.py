"""A generic circuit breaker: CLOSED -> (N failures within a period) OPEN -> (reset timeout)
HALF_OPEN -> one probe call decides. The caller says what counts as a failure, so any
outside service can use it. Time comes from `allin.core.clock`, so tests move it."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from allin.core.clock import clock, utcnow


class BreakerState(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    failure_threshold: int = 5
    reset_timeout: float = 60.0
    monitoring_period: float = 120.0
    half_open_max_calls: int = 1


class Breaker:
    """Not a wrapper: callers ask `allow()`, then report `success()` / `failure()` /
    `release()` (no verdict, e.g. the caller gave up), which suits streamed calls too."""

    def __init__(self, policy: BreakerPolicy | None = None) -> None:
        self.policy = policy or BreakerPolicy()
        self._state = BreakerState.CLOSED
        self._failures: deque[float] = deque()
        self._opened_at = 0.0
        self._probes = 0
        self.last_failure: datetime | None = None
        self.last_change: datetime = utcnow()

    @property
    def state(self) -> BreakerState:
        if (
            self._state is BreakerState.OPEN
            and clock.monotonic() - self._opened_at >= self.policy.reset_timeout
        ):
            self._move(BreakerState.HALF_OPEN)
        return self._state

    def retry_in(self) -> float:
        """Seconds until an open breaker lets a probe through (0 when it would now)."""
        if self.state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self.policy.reset_timeout - (clock.monotonic() - self._opened_at))

    def allow(self) -> bool:
        state = self.state
        if state is BreakerState.OPEN:
            return False
        if state is BreakerState.HALF_OPEN:
            if self._probes >= self.policy.half_open_max_calls:
                return False
            self._probes += 1
        return True

    def success(self) -> None:
        if self._state is BreakerState.HALF_OPEN:
            self._failures.clear()
            self._move(BreakerState.CLOSED)

    def failure(self) -> None:
        now = clock.monotonic()
        self.last_failure = utcnow()
        if self._state is BreakerState.HALF_OPEN:
            self._open(now)
            return
        self._failures.append(now)
        horizon = now - self.policy.monitoring_period
        while self._failures and self._failures[0] < horizon:
            self._failures.popleft()
        if len(self._failures) >= self.policy.failure_threshold:
            self._open(now)

    def release(self) -> None:
        if self._state is BreakerState.HALF_OPEN and self._probes > 0:
            self._probes -= 1

    def _open(self, now: float) -> None:
        self._opened_at = now
        self._move(BreakerState.OPEN)

    def _move(self, state: BreakerState) -> None:
        if state is not self._state:
            self._state = state
            self._probes = 0
            self.last_change = utcnow()
