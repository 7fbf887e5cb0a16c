"""Circuit breaker states by a moved clock; retry decisions; faults from the real simulator."""

from __future__ import annotations

import asyncio

import pytest
import stamina
from stamina.instrumentation import RetryDetails, set_on_retry_hooks

from allin.core.breaker import BreakerConfig, CircuitState
from allin.core.retry import RetryPolicy
from allin.tiktok.client import TikTokClient
from allin.tiktok.errors import CircuitOpenError, TikTokError, TikTokErrorType
from allin.tiktok.resilience import Resilience, should_retry, tiktok_breaker
from tests.tiktok.conftest import FAST_RETRY, MovableClock, Sim, connect, make_config

POLICY = RetryPolicy(retry_after_max=10)


async def _fail() -> None:
    raise TikTokError("internal_error", http_status=500)


async def _ok() -> str:
    return "ok"


async def test_breaker_opens_after_threshold_within_period(moved: MovableClock) -> None:
    breaker = tiktok_breaker(
        BreakerConfig(failure_threshold=5, reset_timeout=60, monitoring_period=120)
    )
    for _ in range(4):
        with pytest.raises(TikTokError):
            await breaker.call(_fail)
    assert breaker.state is CircuitState.CLOSED
    with pytest.raises(TikTokError):
        await breaker.call(_fail)
    assert breaker.state is CircuitState.OPEN
    with pytest.raises(CircuitOpenError) as caught:
        await breaker.call(_ok)
    assert 59 <= (caught.value.retry_after or 0) <= 60
    stats = breaker.stats()
    assert (stats.failures, stats.rejected_calls, stats.times_opened) == (5, 1, 1)
    assert stats.last_failure_time is not None


async def test_failures_outside_the_period_are_forgotten(moved: MovableClock) -> None:
    breaker = tiktok_breaker(BreakerConfig(failure_threshold=3, monitoring_period=120))
    for _ in range(2):
        with pytest.raises(TikTokError):
            await breaker.call(_fail)
    moved.advance(121)
    with pytest.raises(TikTokError):
        await breaker.call(_fail)
    assert breaker.state is CircuitState.CLOSED
    assert breaker.stats().failures == 1


async def test_half_open_probe_closes_or_reopens(moved: MovableClock) -> None:
    breaker = tiktok_breaker(BreakerConfig(failure_threshold=1, reset_timeout=60))
    with pytest.raises(TikTokError):
        await breaker.call(_fail)
    moved.advance(59.9)
    assert breaker.state is CircuitState.OPEN
    moved.advance(0.2)
    assert breaker.state is CircuitState.HALF_OPEN
    with pytest.raises(TikTokError):
        await breaker.call(_fail)  # the probe fails
    assert breaker.state is CircuitState.OPEN
    moved.advance(60)
    assert await breaker.call(_ok) == "ok"
    assert breaker.state is CircuitState.CLOSED
    assert breaker.stats().times_opened == 2


async def test_half_open_admits_one_probe_at_a_time(moved: MovableClock) -> None:
    breaker = tiktok_breaker(BreakerConfig(failure_threshold=1, reset_timeout=1))
    with pytest.raises(TikTokError):
        await breaker.call(_fail)
    moved.advance(1)
    gate = asyncio.Event()

    async def slow() -> str:
        await gate.wait()
        return "probe"

    probe = asyncio.create_task(breaker.call(slow))
    await asyncio.sleep(0)
    with pytest.raises(CircuitOpenError):
        await breaker.call(_ok)
    gate.set()
    assert await probe == "probe"
    assert breaker.state is CircuitState.CLOSED


async def test_cancelled_probe_gives_no_verdict(moved: MovableClock) -> None:
    breaker = tiktok_breaker(BreakerConfig(failure_threshold=1, reset_timeout=1))
    with pytest.raises(TikTokError):
        await breaker.call(_fail)
    moved.advance(1)
    probe = asyncio.create_task(breaker.call(asyncio.Event().wait))
    await asyncio.sleep(0)
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    assert breaker.state is CircuitState.HALF_OPEN  # neither closed nor re-opened
    assert await breaker.call(_ok) == "ok"  # and the next probe is admitted
    assert breaker.state is CircuitState.CLOSED


async def test_client_errors_do_not_trip_the_breaker() -> None:
    breaker = tiktok_breaker(BreakerConfig(failure_threshold=1))

    async def bad_request() -> None:
        raise TikTokError("invalid_params", http_status=400)

    for _ in range(3):
        with pytest.raises(TikTokError):
            await breaker.call(bad_request)
    assert breaker.state is CircuitState.CLOSED


def test_reset() -> None:
    breaker = tiktok_breaker(BreakerConfig(failure_threshold=1))
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    breaker.reset()
    assert breaker.stats().state is CircuitState.CLOSED and breaker.stats().failures == 0


@pytest.mark.parametrize(
    ("error", "idempotent", "expected"),
    [
        (TikTokError("internal_error"), True, True),
        (TikTokError("internal_error"), False, False),
        (TikTokError("network_error", not_sent=True), False, True),
        (TikTokError("timeout"), False, False),
        (TikTokError("rate_limit_exceeded", retry_after=3), False, 3.0),
        (TikTokError("rate_limit_exceeded", retry_after=3600), True, False),
        (TikTokError("rate_limit_exceeded"), True, True),
        (TikTokError("invalid_params"), True, False),
        (TikTokError("access_token_invalid"), True, False),
        (CircuitOpenError(retry_after=5), True, False),
        (ValueError("not ours"), True, False),
    ],
)
def test_retry_decision(error: Exception, idempotent: bool, expected: bool | float) -> None:
    assert POLICY.backoff(should_retry(error, idempotent=idempotent)) == expected


async def test_retry_after_is_honoured() -> None:
    waits: list[float] = []

    def record(details: RetryDetails) -> None:
        waits.append(details.wait_for)

    set_on_retry_hooks([record])
    try:
        calls = 0

        async def limited() -> str:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise TikTokError("rate_limit_exceeded", retry_after=0.3)
            return "done"

        resilience = Resilience(RetryPolicy(wait_initial=0.01, wait_jitter=0, retry_after_max=5))
        assert await resilience.call(limited) == "done"
    finally:
        set_on_retry_hooks(None)
    assert waits == [pytest.approx(0.3)]
    assert stamina.is_active()


# --- against the simulator ---


async def test_429_storm_is_ridden_out(tiktok: TikTokClient, sim: Sim) -> None:
    tokens = await connect(tiktok)
    sim.world.inject("user_info", 429, "rate_limit_exceeded", times=3, retry_after=0)
    info = await tiktok.user_info(tokens.access_token)
    assert info.open_id == tokens.open_id
    assert sim.world.calls["user_info"] == 4
    sim.world.inject("user_info", 429, "rate_limit_exceeded", times=10, retry_after=0)
    with pytest.raises(TikTokError) as caught:
        await tiktok.user_info(tokens.access_token)
    assert caught.value.type is TikTokErrorType.RATE_LIMIT_ERROR
    assert sim.world.calls["user_info"] == 4 + FAST_RETRY.attempts


async def test_real_rate_limit_window(tiktok: TikTokClient, sim: Sim, moved: MovableClock) -> None:
    tokens = await connect(tiktok)
    for _ in range(20):
        await tiktok.creator_info(tokens.access_token)
    with pytest.raises(TikTokError) as caught:
        await tiktok.creator_info(tokens.access_token)  # Retry-After ~60 s > our 3 s cap
    assert caught.value.code == "rate_limit_exceeded" and caught.value.http_status == 429
    assert caught.value.retry_after and 50 < caught.value.retry_after <= 60
    moved.advance(61)
    assert (await tiktok.creator_info(tokens.access_token)).creator_nickname == "Sim Creator"


@pytest.mark.parametrize("code", ["internal_error", None])
async def test_5xx_retried(tiktok: TikTokClient, sim: Sim, code: str | None) -> None:
    tokens = await connect(tiktok)
    sim.world.inject("video_list", 503, code, times=2)
    page = await tiktok.list_videos(tokens.access_token)
    assert page.videos == [] and sim.world.calls["video_list"] == 3


async def test_timeout_is_retried(sim: Sim) -> None:
    async with TikTokClient(make_config(sim, timeout=0.2)) as client:
        tokens = await connect(client)
        sim.world.inject("user_info", 200, "ok", delay=0.5)
        assert (await client.user_info(tokens.access_token)).open_id == tokens.open_id
        assert sim.world.calls["user_info"] == 2


async def test_breaker_opens_and_recovers(
    tiktok: TikTokClient, sim: Sim, moved: MovableClock
) -> None:
    tokens = await connect(tiktok)
    sim.world.inject("user_info", 502, None, times=100)
    with pytest.raises(TikTokError):
        await tiktok.user_info(tokens.access_token)  # 4 attempts, 4 failures
    with pytest.raises(CircuitOpenError):
        await tiktok.user_info(tokens.access_token)  # 5th failure opens it, then fail fast
    seen = sim.world.calls["user_info"]
    assert seen == 5
    stats = tiktok.get_circuit_breaker_stats()
    assert stats.state is CircuitState.OPEN and stats.failures == 5
    with pytest.raises(CircuitOpenError):
        await tiktok.user_info(tokens.access_token)
    assert sim.world.calls["user_info"] == seen  # TikTok was not called
    sim.world.faults.clear()
    moved.advance(60)
    assert tiktok.get_circuit_breaker_stats().state is CircuitState.HALF_OPEN
    assert (await tiktok.user_info(tokens.access_token)).open_id == tokens.open_id
    assert tiktok.get_circuit_breaker_stats().state is CircuitState.CLOSED
    sim.world.inject("user_info", 502, None, times=100)
    for _ in range(2):
        with pytest.raises(TikTokError):
            await tiktok.user_info(tokens.access_token)
    tiktok.reset_circuit_breaker()
    assert tiktok.get_circuit_breaker_stats().state is CircuitState.CLOSED


async def test_network_error_when_nothing_listens() -> None:
    from allin.tiktok.client import TikTokConfig
    from tests.support.server import free_port

    config = TikTokConfig(
        client_key="k",
        client_secret="s",
        redirect_uri="http://127.0.0.1:1/cb",
        api_url=f"http://127.0.0.1:{free_port()}",
        retry=FAST_RETRY,
    )
    async with TikTokClient(config) as client:
        with pytest.raises(TikTokError) as caught:
            await client.user_info("act.x")
    assert caught.value.type is TikTokErrorType.NETWORK_ERROR and caught.value.not_sent
