"""`serve` for the AI simulators: OpenAI Chat Completions and Anthropic Messages on loopback
ports, to point ALLIN_AI_PROVIDERS (or any OpenAI/Anthropic SDK) at by hand."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from allin.simulator.ai.anthropic_app import create_anthropic_simulator
from allin.simulator.ai.openai_app import create_openai_simulator
from allin.simulator.ai.state import SimState
from allin.simulator.live.server import bind, serve_on_socket

app = typer.Typer(help="Simulators of the OpenAI and Anthropic APIs.", no_args_is_help=True)
console = Console()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Bind address")] = "127.0.0.1",
    openai_port: Annotated[int, typer.Option(help="OpenAI port (0 = any)")] = 8094,
    anthropic_port: Annotated[int, typer.Option(help="Anthropic port (0 = any)")] = 8095,
    token_delay: Annotated[float, typer.Option(help="Seconds between streamed tokens")] = 0.02,
) -> None:
    """Serve both AI simulators until Ctrl-C. Keys: sk-sim (OpenAI), sk-ant-sim (Anthropic);
    a model named sim-<scenario> (sim-overloaded, sim-rate-limit, ...) picks a fault."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(host, openai_port, anthropic_port, token_delay))


async def _serve(host: str, openai_port: int, anthropic_port: int, delay: float) -> None:
    apps = {
        "openai": create_openai_simulator(SimState(token_delay=delay)),
        "anthropic": create_anthropic_simulator(SimState(api_key="sk-ant-sim", token_delay=delay)),
    }
    sockets = {"openai": bind(host, openai_port), "anthropic": bind(host, anthropic_port)}
    async with contextlib.AsyncExitStack() as stack:
        tasks = []
        for name, sim in apps.items():
            config = uvicorn.Config(sim, log_config=None, log_level="info")
            tasks.append(await stack.enter_async_context(serve_on_socket(config, sockets[name])))
        ports = {name: sock.getsockname()[1] for name, sock in sockets.items()}
        console.print("[bold]AllIN AI simulators[/]")
        console.print(f"  OpenAI     [cyan]http://{host}:{ports['openai']}/v1[/]  (key sk-sim)")
        console.print(f"  Anthropic  [cyan]http://{host}:{ports['anthropic']}[/]  (key sk-ant-sim)")
        await asyncio.gather(*tasks)
