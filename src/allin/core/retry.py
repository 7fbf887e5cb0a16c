"""One retry policy for calls to outside services: exponential backoff with jitter (stamina),
bounded in attempts and in total time, honouring the service's own wait.

Which failures are worth another attempt is the caller's judgement (only it knows whether a
request may be repeated and whether it reached the service); how long to wait is this policy's.
A wait the service names (Retry-After, RFC 9110 section 10.2.3) is slept through when it is no
longer than `retry_after_max`; a longer one is surfaced so the caller can act on it (wait out a
rate window, tell the user) instead of holding a request open.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import stamina

from allin.core.clock import utcnow
from allin.core.text import is_ascii_digits

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Retry:
    """A failure worth another attempt; `after` is the wait the service named, if any."""

    after: float | None = None


Judge = Callable[[Exception], Retry | None]
"""The caller's verdict on a failure: a `Retry`, or None to give up at once."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    timeout: float = 60.0
    """Seconds across all attempts and waits."""
    wait_initial: float = 0.5
    wait_max: float = 10.0
    wait_jitter: float = 1.0
    retry_after_max: float = 30.0
    """The longest named wait slept through; a longer one is surfaced to the caller."""

    def backoff(self, verdict: Retry | None) -> bool | float:
        """stamina's answer for a verdict: False gives up, True backs off exponentially, a
        number waits exactly that long."""
        if verdict is None:
            return False
        if verdict.after is None:
            return True
        if verdict.after > self.retry_after_max:
            return False
        return max(float(verdict.after), 0.0)

    async def call(self, fn: Callable[[], Awaitable[R]], judge: Judge) -> R:
        """`fn()`, attempted again while `judge` says a failure is worth it and the policy's
        bounds allow; the last failure is raised."""
        async for attempt in stamina.retry_context(
            on=lambda error: self.backoff(judge(error)),
            attempts=self.attempts,
            timeout=self.timeout,
            wait_initial=self.wait_initial,
            wait_max=self.wait_max,
            wait_jitter=self.wait_jitter,
        ):
            with attempt:
                return await fn()
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date (RFC 9110
    section 10.2.3). None when absent or unreadable; a date already past is 0."""
    if not value:
        return None
    value = value.strip()
    if is_ascii_digits(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or utcnow())).total_seconds())
