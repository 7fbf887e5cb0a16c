"""With Redis, limits and the signature cache are shared by every process of a deployment."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from allin.sign.algorithm import AlgorithmSigner
from allin.sign.cache import RedisSignatureCache
from tests.sign.service.conftest import SAMPLE_URL

pytestmark = pytest.mark.redis


async def test_quota_is_shared_by_two_instances(served: Callable[..., Any], redis_url: str) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    settings = {"redis_url": redis_url, "redis_key_prefix": prefix}
    settings["sign_anonymous_limit"] = "3/hour"
    async with served(**settings) as (_, first), served(**settings) as (_, second):
        answers = [
            await client.post("/api/eulerstream", json={"url": SAMPLE_URL})
            for client in (first, second, first, second)
        ]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]


async def test_signature_cache_is_shared(served: Callable[..., Any], redis_url: str) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    async with (
        served(redis_url=redis_url, redis_key_prefix=prefix) as (_, first),
        served(redis_url=redis_url, redis_key_prefix=prefix) as (_, second),
    ):
        a = (await first.post("/api/sign", json={"url": SAMPLE_URL})).json()["data"]
        b = (await second.post("/api/sign", json={"url": SAMPLE_URL})).json()["data"]
    assert a["cached"] is False and b["cached"] is True
    assert a["signed_url"] == b["signed_url"]


async def test_redis_cache_round_trip_and_expiry(redis_url: str) -> None:
    cache = RedisSignatureCache.from_url(redis_url, ttl=1, prefix=f"t-{uuid.uuid4().hex[:8]}")
    signed = AlgorithmSigner().sign(SAMPLE_URL)
    try:
        assert await cache.get(SAMPLE_URL, signed.user_agent) is None
        await cache.put(SAMPLE_URL, signed.user_agent, signed)
        assert await cache.get(SAMPLE_URL, signed.user_agent) == signed
        assert await cache.get(SAMPLE_URL, "another agent") is None
        keys = [k async for k in cache.redis.scan_iter(match=cache.prefix + "*")]
        assert len(keys) == 1 and 0 < await cache.redis.ttl(keys[0]) <= 1
    finally:
        await cache.close()
