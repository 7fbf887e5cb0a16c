"""Where captured events come from: a connected LIVE (`EventSource`) and the factory that
connects to one (`SourceFactory`), with TikTok's LIVE client as the real one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from allin.core.config import Settings
from allin.core.errors import AppError
from allin.live.client import LiveClient, LiveClientOptions
from allin.live.errors import UserNotFoundError, UserOfflineError
from allin.live.protocol import ControlCode, ControlEvent, LiveEvent
from allin.live.web import OFFLINE_STATUS, TikTokWeb

# The LIVE client's typed errors: "not live" (409) and "no such user" (404).
StreamerOfflineError = UserOfflineError
StreamerNotFoundError = UserNotFoundError
GONE_CODES = frozenset({UserOfflineError.code, UserNotFoundError.code})


def is_gone(exc: BaseException) -> bool:
    """The streamer is offline or does not exist (from any source's typed errors)."""
    return isinstance(exc, AppError) and exc.code in GONE_CODES


# -- sources -----------------------------------------------------------------------------------


class EventSource(Protocol):
    """A connected LIVE: its events until the stream ends (the iterator stops). A source may
    also have an `end_reason` attribute, read when the iterator stops."""

    def events(self) -> AsyncIterator[LiveEvent]: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class StreamerProfile:
    username: str
    user_id: str | None = None
    display_name: str | None = None
    follower_count: int | None = None
    bio: str | None = None
    avatar_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def snapshot(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "user_id": self.user_id,
            "display_name": self.display_name,
            "follower_count": self.follower_count,
            "bio": self.bio,
            "avatar_url": self.avatar_url,
            **self.extra,
        }


@dataclass(slots=True)
class OpenedStream:
    profile: StreamerProfile
    room_id: str | None
    source: EventSource


class SourceFactory(Protocol):
    """Connects to a streamer's LIVE. Raises StreamerOfflineError / StreamerNotFoundError."""

    async def open(self, username: str) -> OpenedStream: ...

    async def live_status(self, usernames: list[str]) -> dict[str, bool]: ...


def end_reason(event: LiveEvent) -> str | None:
    """The session's end reason if this event ends the stream."""
    if isinstance(event, ControlEvent) and event.code in (ControlCode.ENDED, ControlCode.SUSPENDED):
        return event.reason or "stream_ended"
    return None


# -- the real TikTok LIVE client as a source ----------------------------------------------


class ClientSource:
    """An EventSource over one `LiveClient` (which reconnects by itself)."""

    def __init__(self, client: LiveClient) -> None:
        self.client = client

    def events(self) -> AsyncIterator[LiveEvent]:
        return self.client.events()

    async def close(self) -> None:
        await self.client.close()

    @property
    def end_reason(self) -> str | None:
        return self.client.close_reason


class ClientSources:
    """Connects through TikTok (or the simulator, wherever the settings point): resolves the
    room and checks it is live *before* a session exists, so "offline" is a clear error."""

    def __init__(self, options: LiveClientOptions, *, concurrency: int = 8) -> None:
        self.options = options
        self._limit = asyncio.Semaphore(concurrency)

    @classmethod
    def from_settings(cls, settings: Settings) -> ClientSources:
        return cls(LiveClientOptions.from_settings(settings))

    def _web(self) -> TikTokWeb:
        o = self.options
        return TikTokWeb(
            web_url=o.web_url,
            webcast_url=o.webcast_url,
            profile=o.profile,
            timeout=o.timeout,
            verify=o.verify,
        )

    async def open(self, username: str) -> OpenedStream:
        async with self._limit, self._web() as web:
            room_id = await web.fetch_room_id(username)
            if not await web.check_alive(room_id):
                raise UserOfflineError(username)
            info = await web.fetch_room_info(room_id, username)
        if info.get("status") == OFFLINE_STATUS:
            raise UserOfflineError(username)
        # Already resolved and checked: the client skips straight to the sign provider.
        options = replace(self.options, room_id=room_id, fetch_room_info=False)
        client = LiveClient(username, options=options)
        return OpenedStream(profile_from_room(username, info), str(room_id), ClientSource(client))

    async def live_status(self, usernames: list[str]) -> dict[str, bool]:
        """TikTok has no bulk check by username: one room-id lookup each (a few at a time),
        then one check per room. Unknown users and failed checks are left out."""
        results = await asyncio.gather(*(self._is_live(name) for name in usernames))
        return {
            name: live for name, live in zip(usernames, results, strict=True) if live is not None
        }

    async def _is_live(self, username: str) -> bool | None:
        try:
            async with self._limit, self._web() as web:
                return await web.check_alive(await web.fetch_room_id(username))
        except UserOfflineError:
            return False
        except AppError:
            return None


def profile_from_room(username: str, info: dict[str, Any]) -> StreamerProfile:
    """The streamer's profile from TikTok's room info (`owner`)."""
    owner = info.get("owner") if isinstance(info.get("owner"), dict) else {}
    assert isinstance(owner, dict)
    avatars = (owner.get("avatar_thumb") or {}).get("url_list") or []
    follow = owner.get("follow_info") or {}
    followers = follow.get("follower_count") if isinstance(follow, dict) else None
    return StreamerProfile(
        username=username,
        user_id=str(owner.get("id_str") or owner.get("id") or "") or None,
        display_name=owner.get("nickname") or None,
        follower_count=followers if isinstance(followers, int) else None,
        bio=owner.get("bio_description") or None,
        avatar_url=avatars[0] if avatars else None,
        extra={"room_title": info.get("title"), "viewers": info.get("user_count")},
    )
