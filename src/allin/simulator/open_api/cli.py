"""`allin simulator open-api serve`: the TikTok Open API simulator on its own, for trying the
`allin tiktok` commands and the server's TikTok connection without TikTok."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from allin.tiktok.cli import CALLBACK_PATH

app = typer.Typer(help="The built-in TikTok Open API simulator.", no_args_is_help=True)
console = Console()


@app.command("serve")
def serve(
    host: str = "127.0.0.1",
    port: int = 9400,
    profile: Annotated[str, typer.Option(help="Token lifetimes: classic or 2026")] = "classic",
    unaudited: Annotated[bool, typer.Option(help="Behave as an unaudited client")] = False,
    manual_consent: Annotated[bool, typer.Option(help="Show the consent page")] = False,
    webhook_url: Annotated[str | None, typer.Option(help="Where to deliver webhooks")] = None,
) -> None:
    """Run the TikTok Open API simulator (client key/secret: sim-client-key/sim-client-secret)."""
    import uvicorn

    from allin.simulator.open_api import (
        CLASSIC,
        PROFILE_2026,
        SimulatorConfig,
        create_open_api_simulator,
    )

    config = SimulatorConfig(
        token_profile=PROFILE_2026 if profile == "2026" else CLASSIC,
        audited=not unaudited,
        auto_consent=not manual_consent,
        webhook_url=webhook_url,
        processing_delay=2.0,
        moderation_delay=3.0,
    )
    config.redirect_uris.append(f"http://127.0.0.1:*{CALLBACK_PATH}")
    console.print(
        f"TikTok Open API simulator on [cyan]http://{host}:{port}[/] "
        f"(client key {config.client_key}, secret {config.client_secret})"
    )
    uvicorn.run(create_open_api_simulator(config), host=host, port=port, log_config=None)
