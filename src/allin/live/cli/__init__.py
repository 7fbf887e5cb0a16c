"""`allin live ...`: watch a LIVE in the terminal; record one into the database, list the
recorded sessions and export them, through the same services as the API."""

import typer

from allin.live.cli.record import record
from allin.live.cli.sessions import export, sessions
from allin.live.cli.watch import watch

app = typer.Typer(help="Watch TikTok LIVE streams.", no_args_is_help=True)
for command in (watch, record, sessions, export):
    app.command()(command)

__all__ = ["app"]
