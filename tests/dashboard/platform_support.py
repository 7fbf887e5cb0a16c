"""The stack the social, publishing and AI pages are driven against: the real app on loopback
with TikTok's Open API and X simulators (they consent at once), the OpenAI simulator as the AI
provider and the LIVE simulator (for recaps of a capture), in a background thread like
`support.running_stack`."""

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
from allin.simulator.ai import SimState, create_openai_simulator
from allin.simulator.live.scenario import DEFAULT_RATES, Scenario
from allin.simulator.live.server import SimulatorUrls, run_simulator
from allin.simulator.live.simulator import Simulator
from allin.simulator.live.simulator import SimulatorConfig as LiveConfig
from allin.simulator.open_api import SimulatorConfig, create_open_api_simulator
from allin.simulator.open_api.state import World
from allin.simulator.social.serve import SocialConfigs, run_social_simulators
from tests.dashboard.support import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.server import free_port, serve


@dataclass
class PlatformStack:
    base_url: str
    app: Any
    tiktok: World
    tiktok_url: str
    x_url: str
    x: Any  # the X simulator's state, to inject faults
    openai: SimState
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
            body = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
            response = http.post("/api/auth/login", json=body)
            response.raise_for_status()
            token: str = response.json()["data"]["access_token"]
            return token

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The API as the admin, for arranging what a test then looks at."""
        with self.api() as http:
            headers = {"Authorization": f"Bearer {self.token()}"}
            response = http.request(method, path, headers=headers, **kwargs)
            response.raise_for_status()
            return response.json()["data"]


def platform_settings(tmp: Path, port: int, urls: dict[str, str], live: SimulatorUrls) -> Settings:
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
        public_url=f"http://127.0.0.1:{port}",
        tiktok_client_key="sim-client-key",
        tiktok_client_secret="sim-client-secret",
        tiktok_api_url=urls["tiktok"],
        tiktok_auth_url=urls["tiktok"],
        x_client_id="sim-x-client-id",
        x_client_secret="sim-x-client-secret",
        x_api_url=urls["x"],
        x_auth_url=urls["x"],
        tiktok_retry_attempts=1,
        tiktok_timeout=5,
        ai_providers=[
            {
                "kind": "openai",
                "name": "openai",
                "model": "gpt-sim",
                "base_url": f"{urls['openai']}/v1",
                "api_key": "sk-sim",
                "timeout": 5,
            }
        ],
        http_timeout=5,
        tiktok_web_url=live.web,
        tiktok_webcast_url=live.webcast,
        sign_url=live.sign,
        live_flush_interval=0.02,
        live_watch_interval=3600,
        posts_poll_interval=0.1,
        posts_max_attempts=1,  # a failed send is final at once: the page's retry takes over
        posts_reconcile_grace=0,
    )


async def _run(tmp: Path, ready: threading.Event, stop: asyncio.Event, out: dict[str, Any]) -> None:
    async with AsyncExitStack() as stack:
        tiktok_config = SimulatorConfig(processing_delay=0.05, moderation_delay=0.05)
        tiktok_config.redirect_uris.append("http://127.0.0.1:*/api/social/accounts/tiktok/callback")
        tiktok = create_open_api_simulator(tiktok_config)
        tiktok_url = await stack.enter_async_context(serve(tiktok))
        openai_state = SimState(token_delay=0.01)
        openai_url = await stack.enter_async_context(serve(create_openai_simulator(openai_state)))
        social = SocialConfigs()
        social.x.redirect_uris.append("http://127.0.0.1:*/api/social/accounts/x/callback")
        ports = {"x": 0, "linkedin": 0, "meta": 0}
        sims = await stack.enter_async_context(
            run_social_simulators(ports=ports, configs=social, handle_signals=False)
        )
        rates = {kind: rate * 8 for kind, rate in DEFAULT_RATES.items()}
        live = Simulator(LiveConfig(demo_scenario=Scenario(rates=rates, viewer_interval=1.0)))
        running = await stack.enter_async_context(run_simulator(live, log_level="warning"))
        port = free_port()
        urls = {"tiktok": tiktok_url, "openai": openai_url, "x": sims.urls["x"]}
        app = create_app(platform_settings(tmp, port, urls, running.urls))
        base_url = await stack.enter_async_context(serve(app, port))
        out.update(
            base_url=base_url,
            app=app,
            tiktok=tiktok.state.sim,
            tiktok_url=tiktok_url,
            x_url=sims.urls["x"],
            x=sims.apps["x"].state.sim,
            openai=openai_state,
        )
        ready.set()
        await stop.wait()


@contextmanager
def running_platform_stack(tmp: Path) -> Iterator[PlatformStack]:
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
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    thread = threading.Thread(target=target, name="platform-stack", daemon=True)
    thread.start()
    ready.wait(30)
    if errors or "base_url" not in out:
        raise RuntimeError("the platform test stack did not start") from (
            errors[0] if errors else None
        )
    try:
        yield PlatformStack(loop=loop, **out)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(20)
