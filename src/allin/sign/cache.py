"""The signature cache (five minutes by default), keyed by URL + User-Agent.

In process memory (bounded, least recently used first out) or in Redis when configured, so
every process behind a load balancer shares it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import Protocol

from cachetools import TTLCache
from redis.asyncio import Redis

from allin.core.clock import clock
from allin.sign.signers import SignedUrl


def cache_key(url: str, user_agent: str) -> str:
    return hashlib.sha256(f"{user_agent}\n{url}".encode()).hexdigest()


class SignatureCache(Protocol):
    async def get(self, url: str, user_agent: str) -> SignedUrl | None: ...

    async def put(self, url: str, user_agent: str, signed: SignedUrl) -> None: ...

    async def close(self) -> None: ...


class NoCache:
    """Used when the TTL is 0: every request is signed afresh."""

    async def get(self, url: str, user_agent: str) -> SignedUrl | None:
        return None

    async def put(self, url: str, user_agent: str, signed: SignedUrl) -> None:
        return None

    async def close(self) -> None:
        return None


class MemorySignatureCache:
    def __init__(self, *, ttl: float, max_entries: int) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: TTLCache[str, SignedUrl] = TTLCache(
            max_entries, ttl, timer=lambda: clock.monotonic()
        )

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, url: str, user_agent: str) -> SignedUrl | None:
        return self._entries.get(cache_key(url, user_agent))

    async def put(self, url: str, user_agent: str, signed: SignedUrl) -> None:
        self._entries[cache_key(url, user_agent)] = signed

    async def close(self) -> None:
        self._entries.clear()


class RedisSignatureCache:
    """Entries expire in Redis itself (SET ... EX); Redis' own eviction bounds the size."""

    def __init__(self, redis: Redis, *, ttl: float, prefix: str) -> None:
        self.redis = redis
        self.ttl = max(1, round(ttl))
        self.prefix = f"{prefix}:sign:cache:"

    @classmethod
    def from_url(cls, url: str, *, ttl: float, prefix: str) -> RedisSignatureCache:
        return cls(Redis.from_url(url), ttl=ttl, prefix=prefix)

    async def get(self, url: str, user_agent: str) -> SignedUrl | None:
        raw = await self.redis.get(self.prefix + cache_key(url, user_agent))
        if raw is None:
            return None
        try:
            return SignedUrl(**json.loads(raw))
        except (TypeError, ValueError):
            return None  # written by another version: sign afresh

    async def put(self, url: str, user_agent: str, signed: SignedUrl) -> None:
        value = json.dumps(asdict(signed), separators=(",", ":"))
        await self.redis.set(self.prefix + cache_key(url, user_agent), value, ex=self.ttl)

    async def close(self) -> None:
        await self.redis.aclose()
