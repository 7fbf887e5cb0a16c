"""Rate windows: when a platform says "limited until T", nothing is sent for that account (or,
for an app-level limit, for any account on that platform's app) before T.

Windows live in the database, so every publishing process (and one restarted after a crash)
honours a window another process opened. Opening an existing window keeps the later end;
ended windows are ignored at once and deleted by `sweep`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, case, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from allin.posts.models import RateWindow
from allin.social.providers.base import LimitScope, Platform, app_platforms

W = RateWindow
APP_KEY = "app"


def _key(scope: LimitScope, account_id: uuid.UUID) -> str:
    return APP_KEY if scope is LimitScope.APP else str(account_id)


async def holding(
    session: AsyncSession, platform: str, account_id: uuid.UUID, now: datetime
) -> RateWindow | None:
    """The open window that holds this account's sends (its own or its app's on the
    platform), the one ending last when both are open."""
    statement = (
        select(W)
        .where(
            W.until > now,
            W.platform == platform,
            or_(
                and_(W.scope == LimitScope.ACCOUNT, W.key == str(account_id)),
                and_(W.scope == LimitScope.APP, W.key == APP_KEY),
            ),
        )
        .order_by(W.until.desc())
        .limit(1)
    )
    window: RateWindow | None = await session.scalar(statement)
    return window


async def open_window(
    session: AsyncSession,
    platform: Platform,
    account_id: uuid.UUID,
    scope: LimitScope,
    until: datetime,
    reason: str | None,
    now: datetime,
) -> None:
    """Holds the account (or every platform the app serves) until `until`, or longer if a
    window already open ends later. One statement per row, so two processes opening the
    same window at once both succeed (PostgreSQL and SQLite upserts)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    platforms = app_platforms(platform) if scope is LimitScope.APP else (platform,)
    for each in platforms:
        statement = insert(W).values(
            id=uuid.uuid4(),
            scope=scope.value,
            platform=each.value,
            key=_key(scope, account_id),
            until=until,
            reason=reason,
            created_at=now,
            updated_at=now,
        )
        later = statement.excluded.until > W.until
        statement = statement.on_conflict_do_update(
            index_elements=[W.scope, W.platform, W.key],
            set_={
                "until": case((later, statement.excluded.until), else_=W.until),
                "reason": case((later, statement.excluded.reason), else_=W.reason),
                "updated_at": now,
            },
        )
        await session.execute(statement)


async def active(session: AsyncSession, now: datetime) -> list[RateWindow]:
    """Every open window, the soonest to end first."""
    found = await session.scalars(select(W).where(W.until > now).order_by(W.until, W.platform))
    return list(found)


async def sweep(session: AsyncSession, now: datetime) -> int:
    """Deletes the windows that have ended."""
    result = await session.execute(
        delete(W).where(W.until <= now).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
