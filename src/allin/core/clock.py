"""The one clock. Everything that needs "now" asks here, so tests can move time."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Wall-clock and monotonic time; subclass or patch `now`/`monotonic` in tests."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


clock = Clock()


def utcnow() -> datetime:
    return clock.now()
