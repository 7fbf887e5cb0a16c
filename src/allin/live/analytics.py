"""Session analytics, computed in SQL so a long session costs the database, not memory.

Totals come from the session's counters (kept in the same transaction as the events); the
per-minute series, unique users and rankings are aggregated from `live_events`. Gift values
are the per-event streak deltas, so every gift streak counts once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from allin.live.models import LiveEventRow, LiveSession
from allin.live.schemas import (
    AnalyticsOut,
    Chatter,
    Gifter,
    GiftTotal,
    MinutePoint,
    session_duration,
)

E = LiveEventRow
_MINUTE_FORMAT = "%Y-%m-%d %H:%M"


def minute_bucket(dialect: str) -> ColumnElement[str]:
    """'YYYY-MM-DD HH:MM' (UTC) of an event, the same text on SQLite and PostgreSQL."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", E.created_at), "YYYY-MM-DD HH24:MI")
    # SQLite stores datetimes as ISO text ('YYYY-MM-DD HH:MM:SS.ffffff'), always UTC here.
    return func.substr(E.created_at, 1, 16)


def _minute(text: str) -> datetime:
    return datetime.strptime(text, _MINUTE_FORMAT).replace(tzinfo=UTC)


async def session_analytics(
    db: AsyncSession, session: LiveSession, *, diamond_usd: float, top: int = 10
) -> AnalyticsOut:
    dialect = db.get_bind().dialect.name
    bucket = minute_bucket(dialect).label("minute")
    sid = session.id
    duration = session_duration(session)
    total = session.total_events or 0
    minutes = max(duration / 60, 1 / 60)
    return AnalyticsOut(
        session_id=sid,
        status=session.status,
        duration_seconds=duration,
        total_events=total,
        counts=dict(sorted((session.counters or {}).items())),
        unique_users=await _unique_users(db, sid),
        peak_viewers=session.peak_viewers or 0,
        current_viewers=session.current_viewers or 0,
        viewers_timeline=await _series(db, sid, bucket, func.max(E.viewer_count), "room_user"),
        events_per_minute=await _series(db, sid, bucket, func.count(), None),
        average_events_per_minute=round(total / minutes, 3),
        likes=session.total_likes or 0,
        diamonds=session.total_diamonds or 0,
        estimated_usd=round((session.total_diamonds or 0) * diamond_usd, 2),
        top_gifters=await _top_gifters(db, sid, top, diamond_usd),
        top_chatters=await _top_chatters(db, sid, top),
        top_gifts=await _top_gifts(db, sid, top),
    )


async def owned_session_analytics(
    db: AsyncSession,
    session_id: uuid.UUID,
    owner_id: uuid.UUID,
    *,
    diamond_usd: float,
    top: int = 10,
) -> AnalyticsOut | None:
    """The analytics of `owner_id`'s session, None when it has no such session (other
    domains read a capture through this, never through the LIVE tables)."""
    session = await db.scalar(
        select(LiveSession).where(LiveSession.id == session_id, LiveSession.owner_id == owner_id)
    )
    if session is None:
        return None
    return await session_analytics(db, session, diamond_usd=diamond_usd, top=top)


async def _unique_users(db: AsyncSession, session_id: uuid.UUID) -> int:
    statement = select(func.count(distinct(E.user_id))).where(
        E.session_id == session_id, E.user_id.is_not(None)
    )
    return int((await db.execute(statement)).scalar_one())


async def _series(
    db: AsyncSession,
    session_id: uuid.UUID,
    bucket: Any,
    aggregate: Any,
    event_type: str | None,
) -> list[MinutePoint]:
    statement = select(bucket, aggregate).where(E.session_id == session_id)
    if event_type is not None:
        statement = statement.where(E.type == event_type)
    statement = statement.group_by(bucket).order_by(bucket)
    rows = (await db.execute(statement)).all()
    return [MinutePoint(minute=_minute(minute), value=int(value or 0)) for minute, value in rows]


async def _top_gifters(
    db: AsyncSession, session_id: uuid.UUID, top: int, diamond_usd: float
) -> list[Gifter]:
    diamonds = func.sum(E.diamonds).label("diamonds")
    statement = (
        select(
            E.user_id, func.max(E.unique_id), func.max(E.nickname), diamonds, func.sum(E.gift_count)
        )
        .where(E.session_id == session_id, E.type == "gift", E.user_id.is_not(None))
        .group_by(E.user_id)
        .order_by(diamonds.desc(), E.user_id)
        .limit(top)
    )
    return [
        Gifter(
            user_id=user_id,
            unique_id=unique_id,
            nickname=nickname,
            diamonds=int(total or 0),
            gifts=int(items or 0),
            estimated_usd=round(int(total or 0) * diamond_usd, 2),
        )
        for user_id, unique_id, nickname, total, items in (await db.execute(statement)).all()
    ]


async def _top_chatters(db: AsyncSession, session_id: uuid.UUID, top: int) -> list[Chatter]:
    messages = func.count().label("messages")
    statement = (
        select(E.user_id, func.max(E.unique_id), func.max(E.nickname), messages)
        .where(E.session_id == session_id, E.type == "chat", E.user_id.is_not(None))
        .group_by(E.user_id)
        .order_by(messages.desc(), E.user_id)
        .limit(top)
    )
    return [
        Chatter(user_id=user_id, unique_id=unique_id, nickname=nickname, messages=int(count))
        for user_id, unique_id, nickname, count in (await db.execute(statement)).all()
    ]


async def _top_gifts(db: AsyncSession, session_id: uuid.UUID, top: int) -> list[GiftTotal]:
    diamonds = func.sum(E.diamonds).label("diamonds")
    statement = (
        select(E.gift_id, func.max(E.gift_name), func.sum(E.gift_count), diamonds)
        .where(E.session_id == session_id, E.type == "gift", E.gift_id.is_not(None))
        .group_by(E.gift_id)
        .order_by(diamonds.desc(), E.gift_id)
        .limit(top)
    )
    return [
        GiftTotal(
            gift_id=str(gift_id), gift_name=name, gifts=int(items or 0), diamonds=int(total or 0)
        )
        for gift_id, name, items, total in (await db.execute(statement)).all()
    ]
