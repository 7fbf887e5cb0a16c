"""Demo mode (`ALLIN_DEMO=true`, what `make run` uses): the product runs against the built-in
simulators instead of TikTok and the AI vendors, so a fresh machine with no network shows real
captures and every AI feature at once.

The LIVE simulator (web, webcast, push WebSocket and its signer, with the always-live
`demo_streamer`), the Open API simulator (OAuth, Display, Content Posting), the X, LinkedIn
and Meta (Facebook Pages, Instagram) simulators (every consent approves at once, so each
platform can be connected offline) and the OpenAI and Anthropic simulators (the AI
assistant's providers, OpenAI first, unless ALLIN_AI_PROVIDERS names others) are served on
loopback ports in the app's own event loop. Their sockets are bound before the app is built,
so every URL the settings hold is known up front and nothing reads a placeholder."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from pydantic import SecretStr

from allin.core.config import AiProviderConfig, Settings
from allin.core.domain import AppState, Domain
from allin.core.logging import Category, get_logger
from allin.simulator.ai import SimState, create_anthropic_simulator, create_openai_simulator
from allin.simulator.live.server import SimulatorUrls, bind, serve_on_socket, simulator_config
from allin.simulator.live.simulator import DEMO_STREAMER, Simulator
from allin.simulator.open_api import SimulatorConfig, create_open_api_simulator
from allin.simulator.social.serve import SocialConfigs, build_apps
from allin.tiktok.router import PREFIX as TIKTOK_PREFIX

log = get_logger(Category.LIVE)


@dataclass(frozen=True, slots=True)
class DemoSockets:
    live: socket.socket
    open_api: socket.socket
    open_api_config: SimulatorConfig
    openai: socket.socket
    anthropic: socket.socket
    social: dict[str, socket.socket]  # x, linkedin, meta
    social_configs: SocialConfigs

    @property
    def live_urls(self) -> SimulatorUrls:
        return SimulatorUrls.for_base(_base(self.live))

    @property
    def open_api_url(self) -> str:
        return _base(self.open_api)


def _base(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


def prepare_demo(settings: Settings) -> tuple[Settings, DemoSockets]:
    """Binds the simulators' sockets and points the settings at them. TikTok credentials
    that are set are the simulator's too; otherwise the simulator's defaults are used."""
    config = SimulatorConfig(processing_delay=2.0, moderation_delay=3.0)
    if settings.tiktok_client_key and settings.tiktok_client_secret:
        config.client_key = settings.tiktok_client_key
        config.client_secret = settings.tiktok_client_secret.get_secret_value()
    # The simulator signs its webhooks with the client secret and sends them to our route.
    config.webhook_url = f"{settings.tiktok_effective_backend_url()}{TIKTOK_PREFIX}/webhook"
    config.redirect_uris.append(settings.social_redirect_uri("tiktok"))
    sockets = DemoSockets(
        live=bind("127.0.0.1", settings.demo_live_port),
        open_api=bind("127.0.0.1", settings.demo_open_api_port),
        open_api_config=config,
        openai=bind("127.0.0.1", 0),
        anthropic=bind("127.0.0.1", 0),
        social={name: bind("127.0.0.1", 0) for name in ("x", "linkedin", "meta")},
        social_configs=_social_configs(settings),
    )
    urls = sockets.live_urls
    update: dict[str, Any] = {
        "tiktok_web_url": urls.web,
        "tiktok_webcast_url": urls.webcast,
        "sign_url": urls.sign,
        "tiktok_api_url": sockets.open_api_url,
        "tiktok_auth_url": sockets.open_api_url,
        "tiktok_client_key": config.client_key,
        "tiktok_client_secret": SecretStr(config.client_secret),
        **_social_settings(sockets),
    }
    if not settings.ai_providers:
        update["ai_providers"] = _demo_ai_providers(sockets)
    return settings.model_copy(update=update), sockets


DEMO_OPENAI_KEY = "sk-sim"
DEMO_ANTHROPIC_KEY = "sk-ant-sim"


def _demo_ai_providers(sockets: DemoSockets) -> list[AiProviderConfig]:
    return [
        AiProviderConfig(
            kind="openai",
            name="openai (simulated)",
            model="gpt-sim",
            base_url=f"{_base(sockets.openai)}/v1",
            api_key=SecretStr(DEMO_OPENAI_KEY),
        ),
        AiProviderConfig(
            kind="anthropic",
            name="anthropic (simulated)",
            model="claude-sim",
            base_url=_base(sockets.anthropic),
            api_key=SecretStr(DEMO_ANTHROPIC_KEY),
        ),
    ]


def _quiet(app: Any) -> uvicorn.Config:
    return uvicorn.Config(app, log_config=None, log_level="warning", access_log=False)


def _social_configs(settings: Settings) -> SocialConfigs:
    """The simulators accept this server's callbacks (and approve consent at once)."""
    configs = SocialConfigs()
    configs.x.redirect_uris.append(settings.social_redirect_uri("x"))
    configs.linkedin.redirect_uris.append(settings.social_redirect_uri("linkedin"))
    for platform in ("facebook", "instagram"):
        configs.meta.redirect_uris.append(settings.social_redirect_uri(platform))
    return configs


def _social_settings(sockets: DemoSockets) -> dict[str, Any]:
    x, linkedin, meta = (_base(sockets.social[n]) for n in ("x", "linkedin", "meta"))
    configs = sockets.social_configs
    return {
        "x_client_id": configs.x.client_id,
        "x_client_secret": SecretStr(configs.x.client_secret or ""),
        "x_api_url": x,
        "x_auth_url": x,
        "linkedin_client_id": configs.linkedin.client_id,
        "linkedin_client_secret": SecretStr(configs.linkedin.client_secret),
        "linkedin_api_url": linkedin,
        "linkedin_auth_url": linkedin,
        "meta_app_id": configs.meta.app_id,
        "meta_app_secret": SecretStr(configs.meta.app_secret),
        "meta_graph_url": meta,
        "meta_graph_video_url": meta,
        "meta_auth_url": meta,
    }


def demo_domain(sockets: DemoSockets) -> Domain:
    """Serves the simulators for as long as the app runs (listed first: up first, down last)."""
    live = simulator_config(Simulator(), "127.0.0.1", None, "warning")
    open_api = uvicorn.Config(
        create_open_api_simulator(sockets.open_api_config),
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="on",  # its ticker moves publishes along and delivers webhooks
    )
    # A short pause between tokens, so the streamed answers visibly stream.
    openai = _quiet(create_openai_simulator(SimState(api_key=DEMO_OPENAI_KEY, token_delay=0.02)))
    anthropic = _quiet(
        create_anthropic_simulator(SimState(api_key=DEMO_ANTHROPIC_KEY, token_delay=0.02))
    )

    @asynccontextmanager
    async def lifespan(state: AppState) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            # Nested servers leave SIGINT/SIGTERM to the app's own server.
            await stack.enter_async_context(
                serve_on_socket(live, sockets.live, handle_signals=False)
            )
            await stack.enter_async_context(
                serve_on_socket(open_api, sockets.open_api, handle_signals=False)
            )
            for config, sock in ((openai, sockets.openai), (anthropic, sockets.anthropic)):
                await stack.enter_async_context(serve_on_socket(config, sock, handle_signals=False))
            for name, app in build_apps(sockets.social_configs).items():
                config = uvicorn.Config(
                    app, log_config=None, log_level="warning", access_log=False, lifespan="off"
                )
                await stack.enter_async_context(
                    serve_on_socket(config, sockets.social[name], handle_signals=False)
                )
            log.info(
                "demo simulators up",
                openai=_base(sockets.openai),
                anthropic=_base(sockets.anthropic),
                live=sockets.live_urls.web,
                open_api=sockets.open_api_url,
                social={name: _base(sock) for name, sock in sockets.social.items()},
                streamer=DEMO_STREAMER,
            )
            yield

    return Domain(name="demo", lifespan=lifespan)
