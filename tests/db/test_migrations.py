"""The same migrations run up, down to base and up again, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import inspect

from allin.db import migrate
from allin.db.engine import create_engine
from allin.models import metadata


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: inspect(c).get_table_names())
    finally:
        await engine.dispose()
    return set(names) - {"alembic_version"}


def _queue_tables(url: str) -> set[str]:
    """The job queue's tables exist on PostgreSQL only."""
    if not url.startswith("postgresql"):
        return set()
    return {"procrastinate_jobs", "procrastinate_workers", "procrastinate_periodic_defers",
            "procrastinate_events"}  # fmt: skip


async def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, database_url, "head")
    assert await migrate.current_revision(database_url) == migrate.head_revision(database_url)
    assert await _tables(database_url) == set(metadata.tables) | _queue_tables(database_url)

    await asyncio.to_thread(migrate.downgrade, database_url, "base")
    assert await migrate.current_revision(database_url) is None
    assert await _tables(database_url) == set()

    await asyncio.to_thread(migrate.upgrade, database_url, "head")
    assert await _tables(database_url) == set(metadata.tables) | _queue_tables(database_url)


async def test_models_match_migrations(database_url: str) -> None:
    """Autogenerate finds nothing to do: the models and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    await asyncio.to_thread(migrate.upgrade, database_url, "head")
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"include_object": migrate.include_object}),
                    metadata,
                )
            )
    finally:
        await engine.dispose()
    assert diff == []


async def test_sqlite_uses_wal(tmp_path: object) -> None:
    from pathlib import Path

    from sqlalchemy import text

    url = f"sqlite+aiosqlite:///{Path(str(tmp_path)) / 'wal.db'}"
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
            fks = (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
    finally:
        await engine.dispose()
    assert mode == "wal" and fks == 1
