"""`allin simulator ...`: every built-in simulator of an outside service, served on its own.
`serve` is TikTok LIVE's (web, webcast and an EulerStream-compatible sign side); `open-api`
serves TikTok's Open API; `social` the X, LinkedIn and Meta APIs."""

from __future__ import annotations

import typer

from allin.simulator.live.cli import serve as serve_live
from allin.simulator.open_api.cli import app as open_api_app
from allin.simulator.social.cli import app as social_app

app = typer.Typer(help="The built-in simulators of outside services.", no_args_is_help=True)
app.command("serve")(serve_live)
app.add_typer(open_api_app, name="open-api")
app.add_typer(social_app, name="social")
