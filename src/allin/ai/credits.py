"""The credit ledger: reserve before a provider call, settle from the reported usage or
refund after. 1 credit = 1,000 tokens (input + output), at least 1 per request.

The month starts at midnight on the 1st in the user's time zone; the current period is
derived from the clock on every request, so the reset holds without any job running.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.ai.errors import OutOfCreditsError
from allin.ai.models import AiAccount, AiCreditPeriod, AiUsage
from allin.ai.providers.base import Usage
from allin.core.clock import clock, utcnow
from allin.core.config import Settings

TOKENS_PER_CREDIT = 1000
ZONE_CACHE_SECONDS = 60.0
P = AiCreditPeriod


def credits_for(tokens: int) -> int:
    return max(1, math.ceil(tokens / TOKENS_PER_CREDIT))


def estimate_credits(prompt_chars: int, max_tokens: int, calls: int = 1) -> int:
    """An upper bound for the reservation: ~3 characters per input token (generous) plus the
    output cap the request sends, per call."""
    return calls * credits_for(math.ceil(prompt_chars / 3) + 32 + max_tokens)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def period_bounds(now: datetime, time_zone: str) -> tuple[datetime, datetime]:
    """[start, end) of the month containing `now`, in UTC, as the user's zone sees it."""
    tz = zone(time_zone)
    local = now.astimezone(tz)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    end = start.replace(year=year, month=month)
    return start.astimezone(UTC), end.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Reservation:
    usage_id: uuid.UUID
    period_id: uuid.UUID
    user_id: uuid.UUID
    credits: int


@dataclass(frozen=True, slots=True)
class Balance:
    allowance: int | None
    used: int
    reserved: int
    period_start: datetime
    resets_at: datetime
    time_zone: str

    @property
    def left(self) -> int | None:
        if self.allowance is None:
            return None
        return max(0, self.allowance - self.used - self.reserved)


@dataclass(frozen=True, slots=True)
class Settled:
    credits: int
    alert_due: bool  # this settle crossed the alert ratio first in the period


class Ledger:
    def __init__(
        self, settings: Settings, session_factory: async_sessionmaker[AsyncSession]
    ) -> None:
        self.settings = settings
        self.sessions = session_factory

        # user -> (time zone, read at): saves a read per request; another process's change
        # of a user's zone shows within the TTL.
        self._zones: dict[uuid.UUID, tuple[str, float]] = {}

    def allowance(self, plan: str) -> int | None:
        return self.settings.ai_plan_credits.get(plan)

    async def time_zone(self, user_id: uuid.UUID) -> str:
        cached = self._zones.get(user_id)
        if cached is not None and clock.monotonic() - cached[1] < ZONE_CACHE_SECONDS:
            return cached[0]
        async with self.sessions() as db:
            account = await db.get(AiAccount, user_id)
        zone_name = account.time_zone if account else self.settings.ai_default_time_zone
        if len(self._zones) > 10_000:
            self._zones.clear()
        self._zones[user_id] = (zone_name, clock.monotonic())
        return zone_name

    async def set_time_zone(self, user_id: uuid.UUID, time_zone: str) -> None:
        async with self.sessions() as db:
            account = await db.get(AiAccount, user_id)
            if account is None:
                db.add(AiAccount(user_id=user_id, time_zone=time_zone))
            else:
                account.time_zone = time_zone
            await db.commit()
        self._zones.pop(user_id, None)

    async def _create_period(
        self, db: AsyncSession, user_id: uuid.UUID, start: datetime, end: datetime
    ) -> None:
        values = {"id": uuid.uuid4(), "user_id": user_id, "period_start": start}
        values.update(period_end=end, reserved=0, used=0)
        maker = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
        await db.execute(
            maker(P)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["user_id", "period_start"])
        )

    async def _take(
        self,
        db: AsyncSession,
        user_id: uuid.UUID,
        start: datetime,
        credits: int,
        allowance: int | None,
    ) -> uuid.UUID | None:
        """One conditional UPDATE: the row lock (PostgreSQL re-checks the condition on the
        newest row) or SQLite's single writer makes concurrent takes add up correctly."""
        condition = and_(P.user_id == user_id, P.period_start == start)
        if allowance is not None:
            condition = and_(condition, P.used + P.reserved + credits <= allowance)
        statement = update(P).where(condition).values(reserved=P.reserved + credits)
        taken: uuid.UUID | None = await db.scalar(statement.returning(P.id))
        return taken

    async def reserve(
        self, user_id: uuid.UUID, plan: str, feature: str, credits: int
    ) -> Reservation:
        allowance = self.allowance(plan)
        time_zone = await self.time_zone(user_id)
        start, end = period_bounds(utcnow(), time_zone)
        async with self.sessions() as db:
            # A write first, so SQLite takes its write lock at once (never upgrading a read
            # snapshot that another writer could have made stale).
            period_id = await self._take(db, user_id, start, credits, allowance)
            if period_id is None:  # the month's first request, or no credits left
                await self._create_period(db, user_id, start, end)
                period_id = await self._take(db, user_id, start, credits, allowance)
            if period_id is None:
                await db.rollback()
                raise OutOfCreditsError(end, allowance or 0)
            usage = AiUsage(
                user_id=user_id,
                period_id=period_id,
                feature=feature,
                reserved=credits,
                created_at=utcnow(),
            )
            db.add(usage)
            await db.commit()
            return Reservation(usage.id, period_id, user_id, credits)

    async def settle(
        self,
        reservation: Reservation,
        usage: Usage,
        provider: str,
        model: str,
        plan: str,
    ) -> Settled:
        # Never more than reserved: the reservation is the promise the limit check made.
        charged = min(credits_for(usage.total), reservation.credits)
        async with self.sessions() as db:
            await db.execute(
                update(P)
                .where(P.id == reservation.period_id)
                .values(reserved=P.reserved - reservation.credits, used=P.used + charged)
            )
            await db.execute(
                update(AiUsage)
                .where(AiUsage.id == reservation.usage_id)
                .values(
                    status="settled",
                    provider=provider,
                    model=model,
                    input_tokens=usage.input_tokens,
                    output_tokens=usage.output_tokens,
                    credits=charged,
                )
            )
            alert_due = await self._claim_alert(db, reservation.period_id, plan)
            await db.commit()
        return Settled(charged, alert_due)

    async def refund(self, reservation: Reservation) -> None:
        async with self.sessions() as db:
            await db.execute(
                update(P)
                .where(P.id == reservation.period_id)
                .values(reserved=P.reserved - reservation.credits)
            )
            await db.execute(
                update(AiUsage)
                .where(AiUsage.id == reservation.usage_id)
                .values(status="refunded", credits=0)
            )
            await db.commit()

    async def _claim_alert(self, db: AsyncSession, period_id: uuid.UUID, plan: str) -> bool:
        allowance = self.allowance(plan)
        if not allowance:
            return False
        threshold = math.ceil(allowance * self.settings.ai_alert_ratio)
        result = await db.execute(
            update(P)
            .where(P.id == period_id, P.alerted_at.is_(None), P.used >= threshold)
            .values(alerted_at=utcnow())
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def unclaim_alert(self, period_id: uuid.UUID) -> None:
        """A mail that could not be sent is tried again by the next sweep."""
        async with self.sessions() as db:
            await db.execute(update(P).where(P.id == period_id).values(alerted_at=None))
            await db.commit()

    async def due_alerts(self, plans: dict[uuid.UUID, str]) -> list[uuid.UUID]:
        """Current periods of `plans`' users past the ratio and not yet alerted, claimed."""
        now = utcnow()
        claimed: list[uuid.UUID] = []
        async with self.sessions() as db:
            rows = (
                await db.execute(
                    select(P.id, P.user_id).where(
                        P.alerted_at.is_(None), P.period_start <= now, P.period_end > now
                    )
                )
            ).all()
            for period_id, user_id in rows:
                plan = plans.get(user_id)
                if plan is not None and await self._claim_alert(db, period_id, plan):
                    claimed.append(period_id)
            await db.commit()
        return claimed

    async def balance(self, user_id: uuid.UUID, plan: str) -> Balance:
        time_zone = await self.time_zone(user_id)
        start, end = period_bounds(utcnow(), time_zone)
        async with self.sessions() as db:
            row = (
                await db.execute(
                    select(P.used, P.reserved).where(P.user_id == user_id, P.period_start == start)
                )
            ).first()
        used, reserved = (int(row[0]), int(row[1])) if row else (0, 0)
        return Balance(self.allowance(plan), used, reserved, start, end, time_zone)

    async def period_of(self, period_id: uuid.UUID) -> AiCreditPeriod | None:
        async with self.sessions() as db:
            return await db.get(P, period_id)
