"""Serving the simulator on a real socket: in-process (tests, `live watch --demo`) or standalone
(`allin simulator serve`), over HTTP or TLS."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn

from allin.live.client import LiveClientOptions
from allin.simulator.live.app import SIGN_PREFIX, WEBCAST_PREFIX, create_simulator_app
from allin.simulator.live.push import PUSH_PATH
from allin.simulator.live.simulator import Simulator
from allin.simulator.live.tls import TlsFiles


@dataclass(frozen=True, slots=True)
class SimulatorUrls:
    """Where to point clients: TikTok's web and webcast hosts, the push server, the signer."""

    web: str
    webcast: str
    push: str
    sign: str

    @classmethod
    def for_base(cls, base: str) -> SimulatorUrls:
        ws = "wss" + base[5:] if base.startswith("https") else "ws" + base[4:]
        return cls(
            web=base,
            webcast=base + WEBCAST_PREFIX,
            push=ws + PUSH_PATH,
            sign=base + SIGN_PREFIX,
        )


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def simulator_config(
    sim: Simulator, host: str, tls: TlsFiles | None, log_level: str
) -> uvicorn.Config:
    return uvicorn.Config(
        create_simulator_app(sim),
        host=host,
        log_config=None,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        ws_ping_interval=None,  # TikTok sends no WebSocket pings
        ws_max_size=1 << 20,
        ssl_certfile=str(tls.cert) if tls else None,
        ssl_keyfile=str(tls.key) if tls else None,
    )


@dataclass(frozen=True, slots=True)
class RunningSimulator:
    simulator: Simulator
    urls: SimulatorUrls
    task: asyncio.Task[None]

    async def wait_closed(self) -> None:
        """Returns when the server stops (Ctrl-C / SIGTERM in a standalone run)."""
        await asyncio.shield(self.task)


class _QuietDenials(logging.Filter):
    """uvicorn logs a refused handshake (HTTP 200, as TikTok refuses) as an error; it is not."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing handshake" not in record.getMessage()


_QUIET = _QuietDenials()


@asynccontextmanager
async def run_simulator(
    sim: Simulator,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: TlsFiles | None = None,
    log_level: str = "info",
    handle_signals: bool = True,
) -> AsyncIterator[RunningSimulator]:
    """Serves `sim` in this event loop until the block exits; port 0 picks a free port.
    `handle_signals`: as for `serve_on_socket`."""
    logging.getLogger("uvicorn.error").addFilter(_QUIET)
    sock = bind(host, port)
    config = simulator_config(sim, host, tls, log_level)
    async with serve_on_socket(config, sock, handle_signals=handle_signals) as task:
        scheme = "https" if tls else "http"
        shown = f"[{host}]" if ":" in host else host
        base = f"{scheme}://{shown}:{sock.getsockname()[1]}"
        yield RunningSimulator(sim, SimulatorUrls.for_base(base), task)


@asynccontextmanager
async def serve_on_socket(
    config: uvicorn.Config, sock: socket.socket, *, handle_signals: bool = True
) -> AsyncIterator[asyncio.Task[None]]:
    """Serves `config`'s app on an already bound socket in this event loop until the block
    exits (then closes the socket). `handle_signals=False` leaves Ctrl-C to whoever runs
    this loop (uvicorn would otherwise stop on it first, and re-raise it once stopped)."""
    server = uvicorn.Server(config)
    if not handle_signals:
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError(f"{config.app!r} did not start")
            await asyncio.sleep(0.01)
        yield task
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


@asynccontextmanager
async def simulated_live_options() -> AsyncIterator[LiveClientOptions]:
    """A LIVE simulator for one command (`allin live watch|record --demo`). Its /sign side is
    AllIN's own fetch endpoint relaying the simulator. Ctrl-C is the command's: it ends a
    recording cleanly, not the simulator under it."""
    async with run_simulator(Simulator(), log_level="warning", handle_signals=False) as running:
        urls = running.urls
        yield LiveClientOptions(web_url=urls.web, webcast_url=urls.webcast, sign_url=urls.sign)
