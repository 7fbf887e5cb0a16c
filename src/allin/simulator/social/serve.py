"""Serving the social-platform simulators on real sockets: X, LinkedIn, and Meta (Facebook
Pages and Instagram share the Graph API host, so one server answers for both)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI

from allin.simulator.live.server import bind, serve_on_socket
from allin.simulator.social.common import ManualClock
from allin.simulator.social.linkedin import LinkedInConfig, create_linkedin_simulator
from allin.simulator.social.meta import MetaConfig, create_meta_simulator
from allin.simulator.social.x import XConfig, create_x_simulator

DEFAULT_PORTS = {"x": 8091, "linkedin": 8092, "meta": 8093}


@dataclass(slots=True)
class SocialConfigs:
    """Served simulators run on a movable clock, so POST /_simulator/clock can expire tokens."""

    x: XConfig = field(default_factory=lambda: XConfig(clock=ManualClock()))
    linkedin: LinkedInConfig = field(default_factory=lambda: LinkedInConfig(clock=ManualClock()))
    meta: MetaConfig = field(default_factory=lambda: MetaConfig(clock=ManualClock()))


@dataclass(frozen=True, slots=True)
class RunningSocial:
    """Base URLs by platform (`facebook` and `instagram` are the Meta server) and the apps,
    whose `state.sim` tests and demo mode steer."""

    urls: dict[str, str]
    apps: dict[str, FastAPI]
    tasks: tuple[asyncio.Task[None], ...]

    async def wait_closed(self) -> None:
        await asyncio.shield(asyncio.gather(*self.tasks))


def build_apps(configs: SocialConfigs) -> dict[str, FastAPI]:
    return {
        "x": create_x_simulator(configs.x),
        "linkedin": create_linkedin_simulator(configs.linkedin),
        "meta": create_meta_simulator(configs.meta),
    }


@asynccontextmanager
async def run_social_simulators(
    host: str = "127.0.0.1",
    ports: dict[str, int] | None = None,
    configs: SocialConfigs | None = None,
    *,
    log_level: str = "warning",
    handle_signals: bool = True,
) -> AsyncIterator[RunningSocial]:
    """Serves the three simulators in this event loop until the block exits; a port of 0
    picks a free one. `handle_signals=False` when another server owns Ctrl-C."""
    ports = {**DEFAULT_PORTS, **(ports or {})}
    apps = build_apps(configs or SocialConfigs())
    shown = f"[{host}]" if ":" in host else host
    urls: dict[str, str] = {}
    tasks: list[asyncio.Task[None]] = []
    async with AsyncExitStack() as stack:
        for name, app in apps.items():
            sock = bind(host, ports[name])
            config = uvicorn.Config(
                app,
                host=host,
                log_config=None,
                log_level=log_level,
                access_log=False,
                lifespan="off",
            )
            tasks.append(
                await stack.enter_async_context(
                    serve_on_socket(config, sock, handle_signals=handle_signals)
                )
            )
            urls[name] = f"http://{shown}:{sock.getsockname()[1]}"
        urls["facebook"] = urls["instagram"] = urls["meta"]
        yield RunningSocial(urls, apps, tuple(tasks))
