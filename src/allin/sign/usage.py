"""Per key, per hour request counts: counted in memory on the hot path, added to the
`sign_usage` table every few seconds (and at shutdown) with one upsert per key and hour."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.auth.models import ApiKey
from allin.core.clock import utcnow
from allin.core.logging import Category, get_logger
from allin.sign.models import SignUsage

log = get_logger(Category.SIGN)
Bucket = tuple[uuid.UUID, datetime]


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


class UsageRecorder:
    def __init__(self, *, interval: float = 5.0) -> None:
        self.interval = interval
        self._requests: Counter[Bucket] = Counter()
        self._limited: Counter[Bucket] = Counter()
        self._factory: async_sessionmaker[AsyncSession] | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def record(self, api_key_id: uuid.UUID, *, limited: bool = False) -> None:
        bucket = (api_key_id, hour_of(utcnow()))
        self._requests[bucket] += 1
        if limited:
            self._limited[bucket] += 1

    def start(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory
        self._task = asyncio.create_task(self._loop(), name="sign-usage-flush")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.flush()
            except Exception as exc:  # keep counting; the next flush retries
                log.warning("usage flush failed", error=str(exc))

    async def flush(self) -> int:
        """Writes what was counted since the last flush; returns the number of rows touched."""
        if self._factory is None:
            return 0
        async with self._lock:
            requests, limited = self._requests, self._limited
            self._requests, self._limited = Counter(), Counter()
            if not requests:
                return 0
            try:
                async with self._factory() as session:
                    # A key deleted since its requests were counted takes its counts with it.
                    ids = {key_id for key_id, _ in requests}
                    alive = set(await session.scalars(select(ApiKey.id).where(ApiKey.id.in_(ids))))
                    for bucket, count in requests.items():
                        if bucket[0] in alive:
                            await _add(session, bucket, count, limited.get(bucket, 0))
                    await session.commit()
            except Exception:
                self._requests.update(requests)  # not lost: retried at the next flush
                self._limited.update(limited)
                raise
            return len(requests)


async def _add(session: AsyncSession, bucket: Bucket, requests: int, limited: int) -> None:
    key_id, hour = bucket
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(SignUsage).values(
        api_key_id=key_id, hour=hour, requests=requests, rate_limited=limited
    )
    statement = statement.on_conflict_do_update(
        index_elements=[SignUsage.api_key_id, SignUsage.hour],
        set_={
            "requests": SignUsage.requests + statement.excluded.requests,
            "rate_limited": SignUsage.rate_limited + statement.excluded.rate_limited,
        },
    )
    await session.execute(statement)


@dataclass(frozen=True, slots=True)
class UsageRow:
    api_key_id: uuid.UUID
    key_name: str
    key_prefix: str
    hour: datetime
    requests: int
    rate_limited: int


async def usage_for_user(session: AsyncSession, user_id: uuid.UUID, hours: int) -> list[UsageRow]:
    since = hour_of(utcnow()) - timedelta(hours=hours - 1)
    rows = await session.execute(
        select(SignUsage, ApiKey.name, ApiKey.prefix)
        .join(ApiKey, ApiKey.id == SignUsage.api_key_id)
        .where(ApiKey.user_id == user_id, SignUsage.hour >= since)
        .order_by(SignUsage.hour, ApiKey.name)
    )
    return [
        UsageRow(u.api_key_id, name, prefix, u.hour, u.requests, u.rate_limited)
        for u, name, prefix in rows
    ]
