"""Test doubles for capture: LIVE events built with the protocol's own dataclasses and
encoders (so `raw` holds real webcast bytes), a scripted EventSource and a SourceFactory."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from allin.live.capture import (
    OpenedStream,
    StreamerNotFoundError,
    StreamerOfflineError,
    StreamerProfile,
)
from allin.live.protocol import (
    ChatEvent,
    ControlEvent,
    EventUser,
    GiftEvent,
    GiftInfo,
    JoinEvent,
    LikeEvent,
    LiveEvent,
    RoomUserEvent,
    decode_message,
    encode_event,
)

BASE_MS = 1_764_000_000_000  # 2025-11-24T16:00:00Z
_ids = itertools.count(7_000_000_000_000_000_001)
ROSE = GiftInfo(id=5655, name="Rose", diamond_count=1, type=1)
LION = GiftInfo(id=6369, name="Lion", diamond_count=29_999, type=2)


def viewer(n: int) -> EventUser:
    return EventUser(
        user_id=6_000_000_000_000_000_000 + n, unique_id=f"viewer_{n:03d}", nickname=f"Viewer {n}"
    )


def wire(event: LiveEvent) -> LiveEvent:
    """The event as a decoder yields it from TikTok-shaped bytes (raw included)."""
    method, payload = encode_event(event)
    return decode_message(method, payload)


def chat(n: int, text: str, *, at_ms: int = 0, msg_id: int | None = None) -> LiveEvent:
    return wire(
        ChatEvent(
            msg_id=msg_id or next(_ids), create_time=BASE_MS + at_ms, user=viewer(n), content=text
        )
    )


def gift(
    n: int,
    info: GiftInfo = ROSE,
    *,
    repeat: int = 1,
    end: bool = False,
    group: int = 1,
    at_ms: int = 0,
) -> LiveEvent:
    return wire(
        GiftEvent(
            msg_id=next(_ids),
            create_time=BASE_MS + at_ms,
            user=viewer(n),
            gift_id=info.id,
            gift=info,
            repeat_count=repeat,
            repeat_end=end,
            group_id=group,
        )
    )


def like(n: int, count: int, *, at_ms: int = 0) -> LiveEvent:
    return wire(
        LikeEvent(msg_id=next(_ids), create_time=BASE_MS + at_ms, user=viewer(n), count=count)
    )


def join(n: int, *, at_ms: int = 0) -> LiveEvent:
    return wire(JoinEvent(msg_id=next(_ids), create_time=BASE_MS + at_ms, user=viewer(n), action=1))


def viewers(count: int, *, at_ms: int = 0) -> LiveEvent:
    return wire(RoomUserEvent(msg_id=next(_ids), create_time=BASE_MS + at_ms, viewer_count=count))


def stream_end(code: int = 3, *, at_ms: int = 0) -> LiveEvent:
    return wire(ControlEvent(msg_id=next(_ids), create_time=BASE_MS + at_ms, code=code))


_END = object()


class ScriptedSource:
    """An EventSource fed by the test: `push()` events, `fail()` an error, `end()` the stream."""

    def __init__(self, events: list[LiveEvent] | None = None) -> None:
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self.closed = False
        for event in events or []:
            self.push(event)

    def push(self, *events: LiveEvent) -> None:
        for event in events:
            self._queue.put_nowait(event)

    def fail(self, error: BaseException) -> None:
        self._queue.put_nowait(error)

    def end(self) -> None:
        self._queue.put_nowait(_END)

    async def events(self) -> AsyncIterator[LiveEvent]:
        while True:
            item = await self._queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    async def close(self) -> None:
        self.closed = True


@dataclass
class FakeSources:
    """A SourceFactory: `live` streamers connect (a new ScriptedSource each time), `missing`
    ones do not exist, everyone else is offline."""

    live: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    opened: dict[str, list[ScriptedSource]] = field(default_factory=dict)
    prefill: dict[str, list[LiveEvent]] = field(default_factory=dict)
    status_calls: list[list[str]] = field(default_factory=list)

    async def open(self, username: str) -> OpenedStream:
        if username in self.missing:
            raise StreamerNotFoundError(username)
        if username not in self.live:
            raise StreamerOfflineError(username)
        source = ScriptedSource(self.prefill.get(username))
        self.opened.setdefault(username, []).append(source)
        profile = StreamerProfile(
            username=username,
            user_id="7000000000000000001",
            display_name=username.title(),
            follower_count=1234,
            bio="bio of " + username,
            avatar_url=f"https://example.invalid/{username}.webp",
        )
        return OpenedStream(profile=profile, room_id="7400000000000000001", source=source)

    async def live_status(self, usernames: list[str]) -> dict[str, bool]:
        self.status_calls.append(list(usernames))
        return {name: name in self.live for name in usernames if name not in self.missing}

    def source(self, username: str, index: int = -1) -> ScriptedSource:
        return self.opened[username][index]


async def eventually(predicate: Any, within: float = 5.0, interval: float = 0.01) -> None:
    """Waits until `predicate()` (sync or async) is truthy."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


# -- databases ---------------------------------------------------------------------------------


async def create_schema(url: str) -> None:
    """The real schema, through the migrations (what production runs)."""
    from allin.db import migrate

    await asyncio.to_thread(migrate.upgrade, url, "head")


async def create_user(factory: Any, email: str = "") -> uuid.UUID:
    """A user row (the owner every session needs)."""
    from allin.auth.models import User

    async with factory() as db:
        user = User(
            email=email or f"{uuid.uuid4().hex[:10]}@example.com",
            password_hash="not-a-real-hash",
            display_name="Test",
            status="ACTIVE",
        )
        db.add(user)
        await db.commit()
        return user.id


# -- HTTP --------------------------------------------------------------------------------------


@dataclass
class Sse:
    """One server-sent event (or a comment line, as `comment`)."""

    data: str = ""
    event: str = "message"
    id: str | None = None
    comment: str | None = None

    def json(self) -> Any:
        import json

        return json.loads(self.data)


async def sse_events(response: Any) -> AsyncIterator[Sse]:
    """Parses an httpx streaming response as text/event-stream."""
    current = Sse()
    lines: list[str] = []
    async for line in response.aiter_lines():
        if line == "":
            if lines:
                current.data = "\n".join(lines)
                yield current
            current, lines = Sse(), []
            continue
        if line.startswith(":"):
            yield Sse(comment=line[1:].strip())
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            lines.append(value)
        elif name == "event":
            current.event = value
        elif name == "id":
            current.id = value
