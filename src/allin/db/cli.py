"""Opening the database from a command-line command: migrated as `allin db upgrade` would,
one engine disposed at the end, and the errors a user can act on printed as one red line
(exit code 1) instead of a traceback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from allin.core.config import Settings, get_settings
from allin.core.errors import AppError
from allin.db import migrate
from allin.db.engine import create_engine

T = TypeVar("T")


class CliError(Exception):
    """Bad input or state the user can fix: printed as one line, exit code 1."""


def prepare_database(settings: Settings) -> None:
    """Brings the schema up to date when the settings say start-up migrates."""
    if settings.migrate_on_startup:
        migrate.upgrade(settings.effective_database_url)


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine on the configured database, disposed on the way out."""
    engine = create_engine(settings.effective_database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


def run_with_database(main: Callable[[Settings, AsyncEngine], Coroutine[Any, Any, T]]) -> T:
    """Runs `main` on the migrated database; `AppError`s, `CliError`s and database errors
    become one red line on stderr and exit code 1."""
    settings = get_settings()
    err = Console(stderr=True, soft_wrap=True)
    try:
        prepare_database(settings)
        return asyncio.run(_run(settings, main))
    except AppError as exc:
        err.print(f"[red][{exc.code}] {escape(exc.message)}[/]")
    except CliError as exc:
        err.print(f"[red]{escape(str(exc))}[/]")
    except SQLAlchemyError as exc:
        err.print(f"[red]database error: {escape(str(exc).splitlines()[0])}[/]")
    raise typer.Exit(1)


async def _run(
    settings: Settings, main: Callable[[Settings, AsyncEngine], Coroutine[Any, Any, T]]
) -> T:
    async with database(settings) as engine:
        return await main(settings, engine)
