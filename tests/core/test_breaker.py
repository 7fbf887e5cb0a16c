from __future__ import annotations

import pytest

from allin.core.breaker import Breaker, BreakerPolicy, BreakerState
from allin.core.clock import Clock, clock


class Moved:
    offset = 0.0


@pytest.fixture
def moved(monkeypatch: pytest.MonkeyPatch) -> Moved:
    state = Moved()
    monkeypatch.setattr(clock, "monotonic", lambda: Clock.monotonic(clock) + state.offset)
    return state


def test_opens_after_threshold_then_probes_once_and_closes(moved: Moved) -> None:
    breaker = Breaker(BreakerPolicy(failure_threshold=2, reset_timeout=10))
    breaker.failure()
    assert breaker.allow() and breaker.state is BreakerState.CLOSED
    breaker.failure()
    assert breaker.state is BreakerState.OPEN and not breaker.allow()
    assert 9 < breaker.retry_in() <= 10
    moved.offset = 10.5
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow() and not breaker.allow()  # one probe at a time
    breaker.success()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()


def test_failed_probe_reopens_and_released_probe_frees_the_slot(moved: Moved) -> None:
    breaker = Breaker(BreakerPolicy(failure_threshold=1, reset_timeout=5))
    breaker.failure()
    moved.offset = 6
    assert breaker.allow()
    breaker.release()
    assert breaker.allow()
    breaker.failure()
    assert breaker.state is BreakerState.OPEN


def test_old_failures_leave_the_window(moved: Moved) -> None:
    breaker = Breaker(BreakerPolicy(failure_threshold=2, monitoring_period=10))
    breaker.failure()
    moved.offset = 11
    breaker.failure()
    assert breaker.state is BreakerState.CLOSED
