"""What the provider tests share: media files on disk, a sleep that moves a simulator's clock,
and following a consent URL the way a browser would."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from allin.core.retry import RetryPolicy
from allin.simulator.social.common import ManualClock
from allin.simulator.social.sniff import jpeg, mp4, png
from allin.social.providers.base import MediaItem, MediaKind

FAST_RETRY = RetryPolicy(
    attempts=3,
    timeout=5.0,
    wait_initial=0.01,
    wait_max=0.02,
    wait_jitter=0.0,
    retry_after_max=0.5,
)


def clock_sleep(clock: ManualClock):  # type: ignore[no-untyped-def]
    """Waiting advances the simulator's clock instead of the wall clock."""

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)
        await asyncio.sleep(0)

    return sleep


def image_file(
    tmp: Path, name: str = "photo.png", width: int = 1080, height: int = 1080
) -> MediaItem:
    data = png(width, height) if name.endswith(".png") else jpeg(width, height)
    path = tmp / name
    path.write_bytes(data)
    mime = "image/png" if name.endswith(".png") else "image/jpeg"
    return MediaItem(path, mime, MediaKind.IMAGE, len(data), width, height)


def video_file(tmp: Path, size: int = 64, name: str = "clip.mp4") -> MediaItem:
    data = mp4(size)
    path = tmp / name
    path.write_bytes(data)
    return MediaItem(path, "video/mp4", MediaKind.VIDEO, len(data), 720, 1280, 12.0, 30.0)


async def follow_consent(url: str, **extra: str) -> dict[str, str]:
    """Opens the consent URL (the simulator approves at once) and returns the callback query."""
    async with httpx.AsyncClient() as browser:
        if extra:
            url += "&" + urlencode(extra)
        response = await browser.get(url)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
