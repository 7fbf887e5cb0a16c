"""What operators see and do: the queue's state, and cleaning out stuck or failed rows."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from allin.core.clock import clock
from allin.core.config import Settings
from allin.posts import queue, windows
from allin.posts.models import PostTarget, QueueWorker, TargetStatus
from allin.posts.schemas import CleanOut, QueueStatusOut, RateWindowOut, WorkerOut

T = PostTarget


async def queue_status(session: AsyncSession, settings: Settings) -> QueueStatusOut:
    now = clock.now()
    counts = {status.value: 0 for status in TargetStatus}
    for status, count in await session.execute(select(T.status, func.count()).group_by(T.status)):
        counts[status] = count
    due_filter = (T.status == TargetStatus.SCHEDULED, T.next_attempt_at <= now)
    due = await session.scalar(select(func.count()).select_from(T).where(*due_filter)) or 0
    oldest = await session.scalar(select(func.min(T.next_attempt_at)).where(*due_filter))
    hour_ago = now - timedelta(hours=1)
    published = await session.scalar(
        select(func.count()).select_from(T).where(T.published_at >= hour_ago)
    )
    failed = await session.scalar(
        select(func.count())
        .select_from(T)
        .where(T.status == TargetStatus.FAILED, T.updated_at >= hour_ago)
    )
    stale = timedelta(seconds=settings.posts_worker_stale_after)
    workers = [
        WorkerOut(
            id=w.id,
            kind=w.kind,
            hostname=w.hostname,
            pid=w.pid,
            started_at=w.started_at,
            heartbeat_at=w.heartbeat_at,
            alive=now - w.heartbeat_at <= stale,
            published=w.published,
        )
        for w in await session.scalars(select(QueueWorker).order_by(QueueWorker.started_at))
    ]
    return QueueStatusOut(
        counts=counts,
        due=due,
        oldest_due_at=oldest,
        lag_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        published_last_hour=published or 0,
        failed_last_hour=failed or 0,
        workers=workers,
        mode=settings.queue,
        rate_windows=[RateWindowOut.model_validate(w) for w in await windows.active(session, now)],
    )


async def clean(session: AsyncSession, older_than: timedelta, statuses: list[str]) -> CleanOut:
    """Stuck PUBLISHING rows whose lease is gone go to the reconciler (never straight back to
    the queue: they may be on the platform); FAILED / UNCONFIRMED / CANCELLED rows older than
    `older_than` are closed as CANCELLED so they stop showing as work."""
    now = clock.now()
    await windows.sweep(session, now)
    swept = await queue.sweep(session, now) if "PUBLISHING" in statuses else 0
    closable = [s for s in statuses if s in ("FAILED", "UNCONFIRMED")]
    cancelled = 0
    if closable:
        result = await session.execute(
            update(T)
            .where(
                T.status.in_(closable),
                T.updated_at < now - older_than,
                T.lease_owner.is_(None),
            )
            .values(status=TargetStatus.CANCELLED, next_attempt_at=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        cancelled = int(result.rowcount)  # type: ignore[attr-defined]
    return CleanOut(cancelled=cancelled, swept=swept)
