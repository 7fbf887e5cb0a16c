"""`allin simulator serve`: the TikTok LIVE simulator on its own, for bots, overlays and the
reference clients (point their TikTok and sign-server base URLs at the printed addresses)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from allin.core.config import get_settings
from allin.simulator.ai.cli import app as ai_app
from allin.simulator.social.cli import app as social_app

if TYPE_CHECKING:
    from allin.simulator.live.server import RunningSimulator
    from allin.simulator.live.simulator import Simulator
    from allin.simulator.live.tls import TlsFiles

app = typer.Typer(help="The built-in simulators of outside services.", no_args_is_help=True)
console = Console()
DEFAULT_PORT = 8090


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 = any free port)")] = DEFAULT_PORT,
    tls: Annotated[bool, typer.Option(help="HTTPS/WSS with a self-signed certificate")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the demo streams")] = 0,
) -> None:
    """Serve TikTok's web, webcast and push sides, plus an EulerStream-compatible signer."""
    # Imported here: `allin --help` should not pay for uvicorn and the simulator.
    from allin.simulator.live.simulator import Simulator, SimulatorConfig
    from allin.simulator.live.tls import ensure_certificate

    files = ensure_certificate(get_settings().data_dir / "simulator") if tls else None
    config = SimulatorConfig(seed=seed, ca_file=str(files.cert) if files else None)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(Simulator(config), host, port, files))


async def _serve(sim: Simulator, host: str, port: int, tls: TlsFiles | None) -> None:
    from allin.simulator.live.server import run_simulator

    async with run_simulator(sim, host=host, port=port, tls=tls) as running:
        _print_urls(running, tls)
        await running.wait_closed()


def _print_urls(running: RunningSimulator, tls: TlsFiles | None) -> None:
    urls = running.urls
    console.print("[bold]AllIN TikTok LIVE simulator[/]")
    console.print(f"  web      [cyan]{urls.web}[/]      (ALLIN_TIKTOK_WEB_URL)")
    console.print(f"  webcast  [cyan]{urls.webcast}[/]  (ALLIN_TIKTOK_WEBCAST_URL)")
    console.print(f"  push     [cyan]{urls.push}[/]")
    console.print(f"  sign     [cyan]{urls.sign}[/]  (ALLIN_SIGN_URL, SIGN_API_URL)")
    console.print(f"  control  [cyan]{urls.web}/_simulator/rooms[/], POST /_simulator/faults")
    if tls is not None:
        console.print(f"  certificate [cyan]{tls.cert}[/] (e.g. NODE_EXTRA_CA_CERTS)")
    streamers = ", ".join(sorted(running.simulator.rooms))
    console.print(f"  streamers: {streamers}")


app.add_typer(social_app, name="social")
app.add_typer(ai_app, name="ai")
