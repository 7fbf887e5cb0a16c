"""PULL_FROM_URL: the simulated TikTok downloads the media itself, as the real one does.

The URL must answer 200 without redirects (3xx is a failure) within the pull timeout; photos must
be JPEG or WebP and at most 20 MB. Progress shows as `downloaded_bytes`.
"""

from __future__ import annotations

import asyncio

import httpx

from allin.core.http import create_http_client
from allin.simulator.open_api.state import Publish, World

_PHOTO_TYPES = ("image/jpeg", "image/webp")


def start_pull(world: World, publish: Publish, urls: list[str], *, photos: bool = False) -> None:
    task = asyncio.create_task(_pull(world, publish, urls, photos))
    world.tasks.add(task)
    task.add_done_callback(world.tasks.discard)


async def _pull(world: World, publish: Publish, urls: list[str], photos: bool) -> None:
    reason = "photo_pull_failed" if photos else "video_pull_failed"
    try:
        async with asyncio.timeout(world.config.pull_timeout):
            async with create_http_client(timeout=30.0, follow_redirects=False) as http:
                for url in urls:
                    if not await _download(world, http, publish, url, photos):
                        world.fail(publish, reason)
                        return
    except (TimeoutError, httpx.HTTPError):
        world.fail(publish, reason)
        return
    if publish.status == "PROCESSING_DOWNLOAD":  # not cancelled meanwhile
        publish.total = publish.downloaded_bytes
        world.bytes_in(publish)


async def _download(
    world: World, http: httpx.AsyncClient, publish: Publish, url: str, photos: bool
) -> bool:
    async with http.stream("GET", url) as response:
        if response.status_code != 200:
            return False
        kind = response.headers.get("content-type", "").split(";")[0].strip()
        if photos and kind not in _PHOTO_TYPES:
            return False
        size = 0
        async for block in response.aiter_bytes():
            if publish.status != "PROCESSING_DOWNLOAD":
                return True  # cancelled: stop quietly
            size += len(block)
            publish.downloaded_bytes += len(block)
            if photos and size > world.config.max_photo_bytes:
                return False
            if publish.downloaded_bytes > world.config.max_video_bytes:
                return False
    return size > 0
