"""Small helpers the platform modules share: reading media files, waiting, time stamps."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from allin.social.providers.base import ErrorKind, MediaItem, Platform, SocialProviderError

Sleep = Callable[[float], Awaitable[None]]


async def read_media(item: MediaItem) -> bytes:
    """The file's bytes, read off the event loop."""
    return await asyncio.to_thread(item.path.read_bytes)


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


def iso_utc(moment: datetime) -> str:
    """RFC 3339 in UTC with a Z, as X's start_time wants it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rejected(platform: Platform, message: str, code: str | None = None) -> SocialProviderError:
    return SocialProviderError(
        message,
        kind=ErrorKind.REJECTED,
        platform=platform,
        platform_code=code,
        platform_message=message,
    )


def config_error(platform: Platform, message: str) -> SocialProviderError:
    return SocialProviderError(message, kind=ErrorKind.CONFIG, platform=platform)


def seconds_until_utc_midnight(now: datetime) -> float:
    """LinkedIn's daily limits reset at 00:00 UTC."""
    now = now.astimezone(UTC)
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC).timestamp() + 86_400
    return max(1.0, midnight - now.timestamp())
