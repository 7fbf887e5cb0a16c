"""Fan-out of stored events to real-time subscribers (SSE, WebSocket).

`LocalHub` delivers inside one process. `RedisHub` also publishes every batch on a Redis
channel per session, so API processes that do not run the capture serve its stream too.
A subscriber that cannot keep up is not allowed to grow without bound: its queue is capped and
it is flagged `lagged`; the stream then re-reads the gap from the database (events are stored
before they are published), so nothing is lost.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

from allin.core.logging import Category, get_logger

log = get_logger(Category.LIVE)


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A session changed status (ended, interrupted, resumed); `ended` closes streams."""

    status: str
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason}


def event_json(data: dict[str, Any]) -> str:
    """An event (or status, or summary) as the compact JSON text streams send."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class EventBatch(list[dict[str, Any]]):
    """Stored events published together, one object for every subscriber: each event's
    JSON text is made at most once (`text(i)`), however many streams send it."""

    __slots__ = ("_texts",)

    def __init__(self, events: Iterable[dict[str, Any]] = ()) -> None:
        super().__init__(events)
        self._texts: list[str | None] = [None] * len(self)

    def text(self, index: int) -> str:
        text = self._texts[index]
        if text is None:
            text = self._texts[index] = event_json(self[index])
        return text


HubItem = EventBatch | StatusChange


# Put in a subscription's queue by `close()`: the stream ends (the server is stopping).
CLOSING = StatusChange("closing", "shutdown")


class Subscription:
    """One subscriber's bounded queue of event batches and status changes."""

    def __init__(self, session_id: uuid.UUID, maxsize: int) -> None:
        self.session_id = session_id
        self._queue: asyncio.Queue[HubItem] = asyncio.Queue(maxsize)
        self.lagged = False  # batches were dropped: re-read the database before going on
        self.status: StatusChange | None = None  # kept aside so a full queue cannot lose it
        self.closed = False  # the stream should end now (checked before each item)

    def close(self) -> None:
        """Ends the stream: wakes a waiting reader with CLOSING (a busy one, whose queue
        may be full, sees `closed` before its next item)."""
        self.closed = True
        with suppress(asyncio.QueueFull):
            self._queue.put_nowait(CLOSING)

    def offer(self, item: HubItem) -> None:
        if isinstance(item, StatusChange):
            self.status = item
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.lagged = True

    async def get(self) -> HubItem:
        return await self._queue.get()

    def get_nowait(self) -> HubItem | None:
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None


class LocalHub:
    """In-process fan-out. `subscribe` is effective when it returns: anything published
    afterwards reaches the subscription."""

    def __init__(self, *, queue_size: int = 1_000) -> None:
        self.node_id = uuid.uuid4().hex
        self._queue_size = queue_size
        self._subscribers: dict[uuid.UUID, set[Subscription]] = {}

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._subscribers.clear()

    def wants(self, session_id: uuid.UUID) -> bool:
        """Whether publishing this session's events reaches anyone."""
        return session_id in self._subscribers

    def subscriber_count(self, session_id: uuid.UUID | None = None) -> int:
        if session_id is not None:
            return len(self._subscribers.get(session_id, ()))
        return sum(len(subs) for subs in self._subscribers.values())

    @asynccontextmanager
    async def subscription(self, session_id: uuid.UUID) -> AsyncIterator[Subscription]:
        sub = await self.subscribe(session_id)
        try:
            yield sub
        finally:
            await self.unsubscribe(sub)

    async def subscribe(self, session_id: uuid.UUID) -> Subscription:
        sub = Subscription(session_id, self._queue_size)
        self._subscribers.setdefault(session_id, set()).add(sub)
        return sub

    async def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subscribers.get(sub.session_id)
        if subs is None:
            return
        subs.discard(sub)
        if not subs:
            del self._subscribers[sub.session_id]

    async def publish(self, session_id: uuid.UUID, events: list[dict[str, Any]]) -> None:
        self._deliver(session_id, EventBatch(events))

    async def publish_status(self, session_id: uuid.UUID, change: StatusChange) -> None:
        self._deliver(session_id, change)

    def _deliver(self, session_id: uuid.UUID, item: HubItem) -> None:
        for sub in self._subscribers.get(session_id, ()):
            sub.offer(item)

    def _mark_all_lagged(self) -> None:
        for subs in self._subscribers.values():
            for sub in subs:
                sub.lagged = True


class RedisHub(LocalHub):
    """Local delivery plus Redis pub/sub between processes (channel per session).

    Local subscribers get this process's events directly (lowest latency); messages coming
    back from Redis with our own node id are ignored. A subscription is confirmed by Redis
    before `subscribe` returns, so a stream that subscribes and then reads the database
    cannot miss an event published in between."""

    def __init__(self, url: str, *, queue_size: int = 1_000, prefix: str = "allin:live") -> None:
        super().__init__(queue_size=queue_size)
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._pubsub = self._redis.pubsub()
        self._prefix = prefix
        self._channels: dict[str, int] = {}  # channel -> local subscriber count
        self._ready: dict[str, asyncio.Future[None]] = {}  # resolved by Redis' confirmation
        self._lock = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None

    def wants(self, session_id: uuid.UUID) -> bool:
        return True  # subscribers in other processes are invisible from here

    def channel(self, session_id: uuid.UUID) -> str:
        return f"{self._prefix}:{session_id}"

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with suppress(asyncio.CancelledError):
                await self._reader
        with suppress(Exception):
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self._redis.aclose()
        await super().close()

    async def subscribe(self, session_id: uuid.UUID) -> Subscription:
        sub = await super().subscribe(session_id)
        channel = self.channel(session_id)
        async with self._lock:
            self._channels[channel] = self._channels.get(channel, 0) + 1
            ready = self._ready.get(channel)
            if ready is None:
                ready = self._ready[channel] = asyncio.get_running_loop().create_future()
                await self._pubsub.subscribe(channel)
                if self._reader is None or self._reader.done():
                    self._reader = asyncio.create_task(self._read(), name="live-hub-redis")
        try:
            await asyncio.wait_for(asyncio.shield(ready), 10)
        except BaseException:
            await self.unsubscribe(sub)
            raise
        return sub

    async def unsubscribe(self, sub: Subscription) -> None:
        await super().unsubscribe(sub)
        channel = self.channel(sub.session_id)
        async with self._lock:
            count = self._channels.get(channel, 0) - 1
            if count > 0:
                self._channels[channel] = count
                return
            self._channels.pop(channel, None)
            self._ready.pop(channel, None)
            with suppress(Exception):
                await self._pubsub.unsubscribe(channel)

    async def publish(self, session_id: uuid.UUID, events: list[dict[str, Any]]) -> None:
        self._deliver(session_id, EventBatch(events))
        await self._send(session_id, {"n": self.node_id, "e": events})

    async def publish_status(self, session_id: uuid.UUID, change: StatusChange) -> None:
        self._deliver(session_id, change)
        await self._send(session_id, {"n": self.node_id, "s": change.to_dict()})

    async def _send(self, session_id: uuid.UUID, message: dict[str, Any]) -> None:
        await self._redis.publish(self.channel(session_id), json.dumps(message))

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Messages may have been missed while disconnected: make streams re-read.
                log.warning("redis hub read failed", error=str(exc))
                self._mark_all_lagged()
                await asyncio.sleep(0.5)
                continue
            if message is not None:
                self._handle(message)

    def _handle(self, message: dict[str, Any]) -> None:
        channel = _text(message.get("channel"))
        if message["type"] == "subscribe":
            ready = self._ready.get(channel)
            if ready is not None and not ready.done():
                ready.set_result(None)
            return
        if message["type"] != "message":
            return
        body = json.loads(message["data"])
        if body.get("n") == self.node_id:
            return
        session_id = uuid.UUID(channel.rsplit(":", 1)[1])
        if "e" in body:
            self._deliver(session_id, EventBatch(body["e"]))
        elif "s" in body:
            self._deliver(session_id, StatusChange(body["s"]["status"], body["s"].get("reason")))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def create_hub(redis_url: str | None, *, queue_size: int, prefix: str = "allin") -> LocalHub:
    if redis_url:
        return RedisHub(redis_url, queue_size=queue_size, prefix=f"{prefix}:live")
    return LocalHub(queue_size=queue_size)
