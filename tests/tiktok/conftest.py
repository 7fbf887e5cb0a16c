"""Fixtures: the Open API simulator on a real loopback server, a client pointed at it, a clock
tests can move, and tiny real videos made with ffmpeg."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from allin.core.breaker import BreakerConfig
from allin.core.clock import Clock, clock
from allin.core.retry import RetryPolicy
from allin.simulator.open_api import SimulatorConfig, World, create_open_api_simulator
from allin.tiktok.client import TikTokClient, TikTokConfig
from allin.tiktok.models import TokenSet
from tests.support.server import serve

FAST_RETRY = RetryPolicy(
    attempts=4, timeout=20, wait_initial=0.01, wait_max=0.05, wait_jitter=0.01, retry_after_max=3
)


class MovableClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def moved(monkeypatch: pytest.MonkeyPatch) -> MovableClock:
    movable = MovableClock()

    def now() -> datetime:
        return Clock.now(clock) + timedelta(seconds=movable.offset)

    def monotonic() -> float:
        return Clock.monotonic(clock) + movable.offset

    monkeypatch.setattr(clock, "now", now)
    monkeypatch.setattr(clock, "monotonic", monotonic)
    return movable


@dataclass
class Sim:
    url: str
    world: World

    @property
    def config(self) -> SimulatorConfig:
        return self.world.config


@pytest.fixture
def sim_config() -> SimulatorConfig:
    return SimulatorConfig(processing_delay=0.05, moderation_delay=0.05, tick_interval=0.02)


@pytest.fixture
async def sim(sim_config: SimulatorConfig) -> AsyncIterator[Sim]:
    app = create_open_api_simulator(sim_config)
    async with serve(app) as url:
        yield Sim(url, app.state.sim)


def make_config(sim: Sim, **overrides: object) -> TikTokConfig:
    values: dict[str, object] = {
        "client_key": sim.config.client_key,
        "client_secret": sim.config.client_secret,
        "redirect_uri": "http://127.0.0.1:8000/api/integrations/tiktok/callback",
        "api_url": sim.url,
        "auth_url": sim.url,
        "scopes": (
            "user.info.basic",
            "user.info.stats",
            "video.list",
            "video.upload",
            "video.publish",
        ),
        "pkce_secret": b"p" * 32,
        "retry": FAST_RETRY,
        "breaker": BreakerConfig(),
        "upload_timeout": 30.0,
    }
    values.update(overrides)
    return TikTokConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
async def tiktok(sim: Sim) -> AsyncIterator[TikTokClient]:
    async with TikTokClient(make_config(sim)) as client:
        yield client


async def authorize(client: TikTokClient, scopes: tuple[str, ...] | None = None) -> dict[str, str]:
    """Follow the authorize URL to its redirect; return the callback's query."""
    url, state = client.authorization_url(scopes)
    async with httpx.AsyncClient() as browser:
        response = await browser.get(url)
    assert response.status_code == 302, response.text
    query = {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}
    assert query["state"] == state
    return query


async def connect(client: TikTokClient, scopes: tuple[str, ...] | None = None) -> TokenSet:
    query = await authorize(client, scopes)
    return await client.exchange_code(query["code"], state=query["state"])


@pytest.fixture
def connected(tiktok: TikTokClient) -> Callable[..., object]:
    return lambda scopes=None: connect(tiktok, scopes)


# --- tiny real videos ---

FFMPEG = shutil.which("ffmpeg")


def make_video(
    path: Path,
    *,
    seconds: float = 3.5,
    size: str = "360x640",
    fps: int = 30,
    codec: str = "libx264",
    extra: tuple[str, ...] = (),
) -> Path:
    assert FFMPEG, "ffmpeg is required (Debian package 'ffmpeg')"
    args = [
        FFMPEG,
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"testsrc=size={size}:rate={fps}",
        "-t",
        str(seconds),
        "-c:v",
        codec,
    ]
    if codec == "libx264":
        args += ["-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    elif codec.startswith("libvpx"):
        args += ["-deadline", "realtime", "-cpu-used", "8"]
    subprocess.run([*args, *extra, str(path)], check=True, timeout=60)
    return path


VIDEO_RECIPES: dict[str, tuple[str, dict[str, object]]] = {
    "ok": ("ok.mp4", {}),
    "mov": ("ok.mov", {}),
    "webm": ("ok.webm", {"codec": "libvpx-vp9"}),
    "short": ("short.mp4", {"seconds": 1.5}),
    "long": ("long.mp4", {"seconds": 8, "size": "360x360", "fps": 24}),
    "slow_fps": ("slow.mp4", {"fps": 15}),
    "tiny": ("tiny.mp4", {"size": "320x240"}),
    "mkv_h264": ("h264.mkv", {}),
    "mpeg4": ("mpeg4.avi", {"codec": "mpeg4"}),
}


class Videos(dict[str, Path]):
    """Made on first use and kept for the session (ffmpeg takes a few hundred ms each)."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def __missing__(self, name: str) -> Path:
        filename, options = VIDEO_RECIPES[name]
        path = make_video(self.folder / filename, **options)  # type: ignore[arg-type]
        self[name] = path
        return path


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Videos:
    return Videos(tmp_path_factory.mktemp("videos"))
