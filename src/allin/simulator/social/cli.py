"""`serve` for the social-platform simulators: X, LinkedIn and Meta (Facebook Pages and
Instagram) on loopback ports, for demo mode and for trying a client by hand."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    help="Simulators of X, LinkedIn, Facebook Pages and Instagram.", no_args_is_help=True
)
console = Console()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Bind address")] = "127.0.0.1",
    x_port: Annotated[int, typer.Option(help="X API v2 port (0 = any)")] = 8091,
    linkedin_port: Annotated[int, typer.Option(help="LinkedIn port (0 = any)")] = 8092,
    meta_port: Annotated[int, typer.Option(help="Meta Graph API port (0 = any)")] = 8093,
) -> None:
    """Serve the X, LinkedIn and Meta Graph API simulators until Ctrl-C."""
    ports = {"x": x_port, "linkedin": linkedin_port, "meta": meta_port}
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(host, ports))


async def _serve(host: str, ports: dict[str, int]) -> None:
    from allin.simulator.social.serve import run_social_simulators

    async with run_social_simulators(host, ports, log_level="info") as running:
        console.print("[bold]AllIN social simulators[/]")
        console.print(f"  X         [cyan]{running.urls['x']}[/]  (api.x.com and x.com)")
        console.print(
            f"  LinkedIn  [cyan]{running.urls['linkedin']}[/]  "
            "(api.linkedin.com and www.linkedin.com)"
        )
        console.print(
            f"  Meta      [cyan]{running.urls['meta']}[/]  (graph.facebook.com, "
            "graph-video.facebook.com, www.facebook.com/vNN.0/dialog/oauth)"
        )
        console.print(
            "  consent approves at once; add sim_decision=deny to the authorize URL "
            "to refuse, sim_user=<id> to sign in as another account"
        )
        await running.wait_closed()
