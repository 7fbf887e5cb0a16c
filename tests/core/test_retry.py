"""The one retry policy: the caller's verdict decides whether, the policy how long and how often."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stamina.instrumentation import RetryDetails, set_on_retry_hooks

from allin.core.retry import Retry, RetryPolicy

FAST = RetryPolicy(attempts=3, timeout=5, wait_initial=0.01, wait_max=0.02, wait_jitter=0)


class Refused(Exception):
    def __init__(self, retry_after: float | None = None, final: bool = False) -> None:
        self.retry_after, self.final = retry_after, final


def judge(error: Exception) -> Retry | None:
    if not isinstance(error, Refused) or error.final:
        return None
    return Retry(error.retry_after)


@given(st.floats(min_value=-5, max_value=1e6, allow_nan=False), st.floats(0, 3600))
def test_a_named_wait_is_kept_only_within_the_bound(after: float, bound: float) -> None:
    answer = RetryPolicy(retry_after_max=bound).backoff(Retry(after))
    if after > bound:
        assert answer is False
    else:
        assert answer == max(after, 0.0) and not isinstance(answer, bool)


def test_no_verdict_gives_up_and_no_named_wait_backs_off() -> None:
    assert FAST.backoff(None) is False
    assert FAST.backoff(Retry()) is True


async def _run(errors: list[Exception]) -> tuple[str | Exception, int, list[float]]:
    calls, waits = 0, []

    def record(details: RetryDetails) -> None:
        waits.append(details.wait_for)

    async def call() -> str:
        nonlocal calls
        calls += 1
        if errors:
            raise errors.pop(0)
        return "done"

    set_on_retry_hooks([record])
    try:
        result: str | Exception = await FAST.call(call, judge)
    except Refused as exc:
        result = exc
    finally:
        set_on_retry_hooks(None)
    return result, calls, waits


async def test_the_service_wait_is_honoured() -> None:
    result, calls, waits = await _run([Refused(retry_after=0.2)])
    assert (result, calls) == ("done", 2)
    assert waits == [pytest.approx(0.2)]


async def test_a_wait_over_the_bound_is_surfaced_at_once() -> None:
    error = Refused(retry_after=FAST.retry_after_max + 1)
    assert await _run([error]) == (error, 1, [])


async def test_a_final_failure_is_not_tried_again() -> None:
    error = Refused(final=True)
    assert await _run([error]) == (error, 1, [])


async def test_attempts_are_bounded() -> None:
    errors: list[Exception] = [Refused() for _ in range(5)]
    result, calls, waits = await _run(errors)
    assert isinstance(result, Refused) and calls == FAST.attempts == 3
    assert len(waits) == 2 and all(0 < wait <= FAST.wait_max for wait in waits)
