"""Request-scoped dependencies: the DB unit of work and the settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from allin.core.config import Settings
from allin.core.domain import app_state
from allin.core.tasks import run_in_background

AFTER_COMMIT = "after_commit"


def get_settings_dep(request: Request) -> Settings:
    return app_state(request.app).settings


async def get_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, committed when the handler returns and before the response
    is sent (durable before acknowledged); background work queued with `after_commit`
    starts only once the commit succeeded."""
    async with app_state(request.app).session_factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        for name, factory in session.info.pop(AFTER_COMMIT, []):
            run_in_background(factory(), name=name)


def after_commit(
    session: AsyncSession, name: str, factory: Callable[[], Coroutine[Any, Any, Any]]
) -> None:
    session.info.setdefault(AFTER_COMMIT, []).append((name, factory))


DbSession = Annotated[AsyncSession, Depends(get_db_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
