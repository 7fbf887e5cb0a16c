"""The stack the browser tests drive: the real app on loopback, capturing through its own LIVE
client from the built-in TikTok simulator (its always-live `demo_streamer`), in a thread with
its own event loop so the tests can use Playwright's synchronous API."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from allin.app import create_app
from allin.core.config import Settings
from allin.simulator.live.scenario import DEFAULT_RATES, Scenario
from allin.simulator.live.server import SimulatorUrls, run_simulator
from allin.simulator.live.simulator import Simulator, SimulatorConfig
from tests.support.server import serve

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery staple"


@dataclass
class Stack:
    base_url: str
    app: Any
    simulator: Simulator
    loop: asyncio.AbstractEventLoop

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=10)

    def create_admin(self) -> None:
        with self.api() as http:
            if http.get("/api/auth/setup").json()["data"]["needs_setup"]:
                body = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "display_name": "Ada"}
                http.post("/api/auth/setup", json=body).raise_for_status()

    def token(self) -> str:
        with self.api() as http:
            response = http.post(
                "/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
            )
            response.raise_for_status()
            token: str = response.json()["data"]["access_token"]
            return token


def stack_settings(tmp: Path, urls: SimulatorUrls) -> Settings:
    """The app as `make run` configures it, with TikTok's hosts pointed at the simulator."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        env="test",
        data_dir=tmp / "var",
        database_url=f"sqlite+aiosqlite:///{tmp / 'allin.db'}",
        log_format="json",
        log_level="WARNING",
        redis_url=None,
        secret_key="test-secret-key-not-for-production",
        password_hash_profile="test",
        rate_limit_enabled=False,
        live_flush_interval=0.02,
        live_sse_heartbeat=1.0,
        live_watch_interval=3600,
        tiktok_web_url=urls.web,
        tiktok_webcast_url=urls.webcast,
        sign_url=urls.sign,
        live_backoff_base=0.05,
        live_backoff_max=0.5,
        http_timeout=5,
    )


async def _run(tmp: Path, ready: threading.Event, stop: asyncio.Event, out: dict[str, Any]) -> None:
    async with AsyncExitStack() as stack:
        # A busy stream (8x the default rates): events arrive fast, tests stay short.
        rates = {kind: rate * 8 for kind, rate in DEFAULT_RATES.items()}
        scenario = Scenario(rates=rates, viewer_interval=1.0)
        simulator = Simulator(SimulatorConfig(demo_scenario=scenario))
        running = await stack.enter_async_context(run_simulator(simulator, log_level="warning"))
        app = create_app(stack_settings(tmp, running.urls))
        base_url = await stack.enter_async_context(serve(app))
        out.update(base_url=base_url, app=app, simulator=simulator)
        ready.set()
        await stop.wait()


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    """Tasks the servers left behind (SSE watchers) end with the loop, not as warnings."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


@contextmanager
def running_stack(tmp: Path) -> Iterator[Stack]:
    """Simulator + app served in a background thread until the block exits."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop = asyncio.Event()
    out: dict[str, Any] = {}
    errors: list[BaseException] = []

    def target() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(_run(tmp, ready, stop, out))
        except BaseException as exc:  # surfaced to the test below
            errors.append(exc)
            ready.set()
        finally:
            _cancel_leftovers(loop)
            loop.close()

    thread = threading.Thread(target=target, name="dashboard-stack", daemon=True)
    thread.start()
    ready.wait(30)
    if errors or "base_url" not in out:
        raise RuntimeError("the dashboard test stack did not start") from (
            errors[0] if errors else None
        )
    try:
        yield Stack(out["base_url"], out["app"], out["simulator"], loop)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(20)
