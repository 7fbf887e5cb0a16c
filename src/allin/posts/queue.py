"""The publishing queue's row transitions: claim with a lease, mark as sent, release, sweep.

Every transition is one conditional UPDATE, so two dispatchers (or a dispatcher and a
worker) can never both own a row: a claim only takes rows whose lease is free or expired
(PostgreSQL also skips rows another transaction has locked: FOR UPDATE SKIP LOCKED; SQLite
has one writer at a time), and the step to PUBLISHING requires the caller's live lease.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from allin.posts.models import PostTarget, TargetStatus

T = PostTarget
_QUEUED = (TargetStatus.SCHEDULED, TargetStatus.UNCONFIRMED)


def due(now: datetime) -> object:
    """Rows the queue may take now: queued, due, and with no live lease."""
    return and_(
        T.status.in_(_QUEUED),
        T.next_attempt_at <= now,
        or_(T.lease_expires_at.is_(None), T.lease_expires_at < now),
    )


async def claim(
    session: AsyncSession,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    target_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Leases up to `limit` due rows (or the one row `target_id` if due) to `owner`."""
    condition = due(now)
    pick = select(T.id).where(condition)  # type: ignore[arg-type]
    if target_id is not None:
        pick = pick.where(T.id == target_id)
    pick = pick.order_by(T.next_attempt_at).limit(limit).with_for_update(skip_locked=True)
    statement = (
        update(T)
        .where(T.id.in_(pick.scalar_subquery()), condition)  # type: ignore[arg-type]
        .values(lease_owner=owner, lease_expires_at=now + lease)
        .returning(T.id)
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(statement)).scalars().all()
    return list(rows)


async def mark_sending(
    session: AsyncSession, target_id: uuid.UUID, owner: str, now: datetime, lease: timedelta
) -> bool:
    """SCHEDULED -> PUBLISHING, before the irreversible call; False if the lease was lost."""
    result = await session.execute(
        update(T)
        .where(
            T.id == target_id,
            T.lease_owner == owner,
            T.lease_expires_at > now,
            T.status == TargetStatus.SCHEDULED,
        )
        .values(
            status=TargetStatus.PUBLISHING,
            sent_at=now,
            attempts=T.attempts + 1,
            checks=0,
            lease_expires_at=now + lease,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def sweep(session: AsyncSession, now: datetime) -> int:
    """Rows left PUBLISHING by a dead process (lease expired) become UNCONFIRMED, so the
    reconciler asks the platform before anything is sent again."""
    result = await session.execute(
        update(T)
        .where(T.status == TargetStatus.PUBLISHING, T.lease_expires_at < now)
        .values(
            status=TargetStatus.UNCONFIRMED,
            next_attempt_at=now,
            lease_owner=None,
            lease_expires_at=None,
            last_error_code="SOCIAL_004",
            last_error="The publishing process stopped while sending; checking the platform",
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def next_due_at(session: AsyncSession) -> datetime | None:
    """When the earliest queued row becomes due (for the dispatcher's sleep)."""
    # A leased row is not due for anyone else before its lease ends. Two MINs over typed
    # columns (not one over a CASE), so SQLite's text timestamps come back as datetimes.
    queued = T.status.in_(_QUEUED)
    unleased = or_(T.lease_expires_at.is_(None), T.lease_expires_at <= T.next_attempt_at)
    free = await session.scalar(select(func.min(T.next_attempt_at)).where(queued, unleased))
    leased = await session.scalar(
        select(func.min(T.lease_expires_at)).where(queued, T.lease_expires_at > T.next_attempt_at)
    )
    found = [value for value in (free, leased) if isinstance(value, datetime)]
    return min(found) if found else None
