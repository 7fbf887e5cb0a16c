"""The shared rate limiter, on memory and on a real Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from limits.aio.storage import MemoryStorage, RedisStorage

from allin.core.config import Settings
from allin.core.errors import RateLimitedError
from allin.core.ratelimit import RateLimiter, RateLimitResult
from allin.core.units import parse_limit


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    if request.param == "memory":
        made = RateLimiter()
    else:
        url = request.getfixturevalue("redis_url")
        prefix = f"test-{uuid.uuid4().hex[:8]}"
        storage = RedisStorage("async+" + url, implementation="redispy", key_prefix=prefix)
        made = RateLimiter(storage)
    yield made
    await made.close()


async def test_hit_until_limited_then_recover(limiter: RateLimiter) -> None:
    results = [await limiter.hit("scope", "k", "3/second") for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert [r.remaining for r in results] == [2, 1, 0, 0]
    assert all(r.limit == 3 for r in results)
    denied = results[-1]
    assert denied.retry_after == 1
    assert time.time() < denied.reset_at <= time.time() + 1.01
    await asyncio.sleep(1.05)
    assert (await limiter.hit("scope", "k", "3/second")).allowed


async def test_scopes_and_keys_are_separate(limiter: RateLimiter) -> None:
    assert (await limiter.hit("a", "k", "1/minute")).allowed
    assert not (await limiter.hit("a", "k", "1/minute")).allowed
    assert (await limiter.hit("b", "k", "1/minute")).allowed
    assert (await limiter.hit("a", "other", "1/minute")).allowed


async def test_test_counts_nothing_and_reset_clears(limiter: RateLimiter) -> None:
    for _ in range(3):
        assert (await limiter.test("s", "k", "1/minute")).allowed
    await limiter.hit("s", "k", "1/minute")
    assert not (await limiter.test("s", "k", "1/minute")).allowed
    await limiter.reset("s", "k", "1/minute")
    assert (await limiter.hit("s", "k", "1/minute")).allowed


async def test_enforce_raises_429_with_retry_after(limiter: RateLimiter) -> None:
    await limiter.enforce("s", "k", "1/hour")
    with pytest.raises(RateLimitedError) as caught:
        await limiter.enforce("s", "k", "1/hour", message="slow down")
    error = caught.value
    assert error.status_code == 429 and error.code == "RATE_LIMITED"
    assert error.message == "slow down"
    assert 3500 <= int(error.headers["Retry-After"]) <= 3600
    assert error.headers["X-RateLimit-Limit"] == "1"
    assert error.details == {"limit": 1, "retry_after": error.retry_after}


async def test_cost(limiter: RateLimiter) -> None:
    assert (await limiter.hit("s", "k", "5/minute", cost=4)).remaining == 1
    assert not (await limiter.hit("s", "k", "5/minute", cost=2)).allowed
    assert (await limiter.hit("s", "k", "5/minute", cost=1)).allowed


async def test_disabled_lets_everything_through() -> None:
    limiter = RateLimiter(enabled=False)
    for _ in range(5):
        assert (await limiter.hit("s", "k", "1/hour")).allowed


def test_result_headers() -> None:
    result = RateLimitResult(False, 10, 0, 1_700_000_000.2, 30)
    assert result.headers() == {
        "X-RateLimit-Limit": "10",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "1700000001",
    }


@pytest.mark.parametrize("text", ["5/minute", "1000 per hour", "3/10 seconds", "1/day"])
def test_parse_limit(text: str) -> None:
    assert parse_limit(text).amount > 0


@pytest.mark.parametrize("text", ["", "five/minute", "5/fortnight", "5"])
def test_parse_limit_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_limit(text)


async def test_storage_follows_settings(make_settings: Callable[..., Settings]) -> None:
    memory = RateLimiter.from_settings(make_settings())
    assert isinstance(memory.storage, MemoryStorage)
    redis = RateLimiter.from_settings(make_settings(redis_url="redis://127.0.0.1:1/0"))
    assert isinstance(redis.storage, RedisStorage)
    assert not RateLimiter.from_settings(make_settings(rate_limit_enabled=False)).enabled
    await memory.close()


@pytest.mark.redis
async def test_redis_limits_are_shared_between_limiters(
    make_settings: Callable[..., Settings], redis_url: str
) -> None:
    """Two app instances (processes) on one Redis see the same counts."""
    settings = make_settings(redis_url=redis_url, redis_key_prefix=f"t{uuid.uuid4().hex[:8]}")
    first, second = RateLimiter.from_settings(settings), RateLimiter.from_settings(settings)
    try:
        assert (await first.hit("login", "ip", "2/minute")).allowed
        assert (await second.hit("login", "ip", "2/minute")).allowed
        assert not (await first.hit("login", "ip", "2/minute")).allowed
    finally:
        await first.close()
        await second.close()
