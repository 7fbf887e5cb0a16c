"""The `allin` command line (typer + rich)."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer
from rich.console import Console

from allin import __version__
from allin.auth.cli import app as users_app
from allin.core.config import Settings, get_settings
from allin.db import migrate
from allin.live.cli import app as live_app
from allin.posts.cli import posts_app, queue_app
from allin.posts.cli import worker as posts_worker
from allin.sign.cli import app as sign_app
from allin.simulator.live.cli import app as simulator_app
from allin.social.cli import social_cli
from allin.social.providers.base import Platform
from allin.social.registry import ProviderFactory
from allin.tiktok.cli import app as tiktok_app

app = typer.Typer(help="AllIN: TikTok LIVE capture, signing, Open API and publishing.")
db_app = typer.Typer(help="Database migrations.")
app.add_typer(db_app, name="db")
app.add_typer(tiktok_app, name="tiktok")
app.add_typer(users_app, name="users")
app.add_typer(live_app, name="live")
app.add_typer(simulator_app, name="simulator")
app.add_typer(sign_app, name="sign")
app.add_typer(posts_app, name="posts")
app.add_typer(queue_app, name="queue")
app.command("worker")(posts_worker)
console = Console()


def _social_providers(settings: Settings) -> dict[Platform, ProviderFactory]:
    from allin.app import social_providers  # the app's composition, loaded when needed

    return social_providers(settings)


app.add_typer(social_cli(_social_providers), name="social")


@app.callback()
def _configure() -> None:
    from allin.core.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)


@app.command()
def version() -> None:
    """Print the AllIN version."""
    console.print(f"allin {__version__}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (ALLIN_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (ALLIN_PORT)")] = None,
    reload: Annotated[bool, typer.Option(help="Reload on code changes")] = False,
    demo: Annotated[
        bool | None,
        typer.Option(help="TikTok is the built-in simulators (ALLIN_DEMO)", show_default=False),
    ] = None,
) -> None:
    """Serve the API and dashboard."""
    import uvicorn

    if demo is not None:  # the factory (and --reload's child) read it from the environment
        os.environ["ALLIN_DEMO"] = "true" if demo else "false"
        get_settings.cache_clear()
    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    console.print(f"[bold]AllIN[/] {__version__} on [cyan]http://{host}:{port}[/]")
    if settings.demo:
        console.print(
            "demo mode: TikTok is the built-in simulator; open the dashboard and connect to "
            "[bold]demo_streamer[/] (ALLIN_DEMO=false for real TikTok)"
        )
    uvicorn.run(
        "allin.app:create_app",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        log_config=None,  # our structlog set-up owns logging
        proxy_headers=True,
    )


def _db_url() -> str:
    return get_settings().effective_database_url


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    migrate.upgrade(_db_url(), revision)
    console.print(f"database at [green]{asyncio.run(migrate.current_revision(_db_url()))}[/]")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()] = "-1") -> None:
    """Revert migrations down to REVISION ('base' for an empty database)."""
    migrate.downgrade(_db_url(), revision)
    console.print(f"database at [yellow]{asyncio.run(migrate.current_revision(_db_url()))}[/]")


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision and the code's head."""
    current = asyncio.run(migrate.current_revision(_db_url()))
    head = migrate.head_revision(_db_url())
    console.print(f"current: {current or 'base (empty)'}  head: {head}")


def main() -> None:
    app()
