"""Alembic driven from code: `allin db …` and start-up both call these."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from allin.db.engine import create_engine

# Installed by its own revision from the job queue's package, not described by our models.
FOREIGN_PREFIX = "procrastinate_"


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Autogenerate compares our schema only: the job queue's objects are left out."""
    return not (reflected and compare_to is None and (name or "").startswith(FOREIGN_PREFIX))


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "allin.db:migrations")
    # Stored as an attribute (not an ini option) so '%' in passwords needs no escaping.
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def head_revision(database_url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


async def current_revision(database_url: str) -> str | None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_current)
    finally:
        await engine.dispose()


def _current(sync_conn: Any) -> str | None:
    return MigrationContext.configure(sync_conn).get_current_revision()


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """For a running event loop: Alembic's env runs its own loop, so use a thread."""
    await asyncio.to_thread(upgrade, database_url, revision)
