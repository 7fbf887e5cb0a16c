"""Fan-out: in one process, and between processes through a real Redis."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from allin.live.hub import EventBatch, LocalHub, RedisHub, StatusChange


def _events(*ids: int) -> list[dict[str, object]]:
    return [{"id": i, "type": "chat"} for i in ids]


async def test_local_hub_delivers_to_every_subscriber_of_the_session() -> None:
    hub = LocalHub()
    session, other = uuid.uuid4(), uuid.uuid4()
    async with (
        hub.subscription(session) as a,
        hub.subscription(session) as b,
        hub.subscription(other) as c,
    ):
        await hub.publish(session, _events(1, 2))
        await hub.publish_status(session, StatusChange("ended", "ended_by_host"))
        assert await a.get() == _events(1, 2)
        assert await b.get() == _events(1, 2)
        assert await a.get() == StatusChange("ended", "ended_by_host")
        assert c.get_nowait() is None
    assert hub.subscriber_count() == 0


async def test_slow_subscriber_is_flagged_lagged_not_grown() -> None:
    hub = LocalHub(queue_size=2)
    session = uuid.uuid4()
    async with hub.subscription(session) as sub:
        for i in range(5):
            await hub.publish(session, _events(i))
        await hub.publish_status(session, StatusChange("ended"))
        assert sub.lagged
        assert sub.status == StatusChange("ended")  # kept even though the queue was full
        assert await sub.get() == _events(0)
        assert await sub.get() == _events(1)
        assert sub.get_nowait() is None


@pytest.mark.redis
async def test_redis_hub_fans_out_between_processes(redis_url: str) -> None:
    producer = RedisHub(redis_url, prefix=f"t{uuid.uuid4().hex[:8]}")
    consumer = RedisHub(redis_url, prefix=producer._prefix)
    session = uuid.uuid4()
    try:
        async with (
            consumer.subscription(session) as remote,
            producer.subscription(session) as local,
        ):
            await producer.publish(session, _events(1, 2, 3))
            await producer.publish_status(session, StatusChange("ended", "stopped_by_user"))
            assert await asyncio.wait_for(remote.get(), 5) == _events(1, 2, 3)
            assert await asyncio.wait_for(remote.get(), 5) == StatusChange(
                "ended", "stopped_by_user"
            )
            # The producer's own subscribers get it once, directly (not again via Redis).
            assert await local.get() == _events(1, 2, 3)
            assert await local.get() == StatusChange("ended", "stopped_by_user")
            await asyncio.sleep(0.1)
            assert local.get_nowait() is None
    finally:
        await producer.close()
        await consumer.close()


@pytest.mark.redis
async def test_redis_subscription_is_confirmed_before_subscribe_returns(redis_url: str) -> None:
    """A publish right after subscribe() returns is never missed (SSE resume relies on it)."""
    producer = RedisHub(redis_url, prefix=f"t{uuid.uuid4().hex[:8]}")
    consumer = RedisHub(redis_url, prefix=producer._prefix)
    try:
        for _ in range(20):
            session = uuid.uuid4()
            async with consumer.subscription(session) as sub:
                await producer.publish(session, _events(1))
                assert await asyncio.wait_for(sub.get(), 5) == _events(1)
        assert consumer.subscriber_count() == 0
    finally:
        await producer.close()
        await consumer.close()


@pytest.mark.redis
async def test_two_local_subscribers_share_one_redis_channel(redis_url: str) -> None:
    producer = RedisHub(redis_url, prefix=f"t{uuid.uuid4().hex[:8]}")
    consumer = RedisHub(redis_url, prefix=producer._prefix)
    session = uuid.uuid4()
    try:
        first = await consumer.subscribe(session)
        second = await consumer.subscribe(session)
        await consumer.unsubscribe(first)
        await producer.publish(session, _events(9))
        assert await asyncio.wait_for(second.get(), 5) == _events(9)
        assert first.get_nowait() is None
        await consumer.unsubscribe(second)
        assert consumer._channels == {}
    finally:
        await producer.close()
        await consumer.close()


async def test_a_batch_is_serialised_once_for_every_subscriber() -> None:
    hub = LocalHub()
    session = uuid.uuid4()
    async with hub.subscription(session) as a, hub.subscription(session) as b:
        await hub.publish(session, _events(1, 2))
        first, second = await a.get(), await b.get()
        assert isinstance(first, EventBatch) and first is second  # one object for all
        text = first.text(1)
        assert second.text(1) is text  # made once, shared
        assert json.loads(text) == _events(1, 2)[1]


def test_websocket_messages_are_what_send_json_would_write() -> None:
    from allin.live.router import _ws_message
    from allin.live.service import StreamItem

    batch = EventBatch([{"id": 7, "message": 'héllo \u2028 "x"', "data": {"n": [1, None]}}])
    items = [
        StreamItem("event", batch[0], 7, batch.text(0)),
        StreamItem("event", batch[0], 7),
        StreamItem("status", {"status": "ended", "reason": None}),
    ]
    for item in items:
        wanted = {"kind": item.kind, "id": item.id, "data": item.data}
        assert _ws_message(item) == json.dumps(wanted, separators=(",", ":"), ensure_ascii=False)
