"""LiveClient end to end against the simulator on real loopback HTTP + WebSocket servers."""

from __future__ import annotations

import asyncio
from contextlib import aclosing

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from allin.live.client import LiveClient
from allin.live.errors import (
    AgeRestrictedError,
    SignRateLimitedError,
    UserNotFoundError,
    UserOfflineError,
    WebSocketRejectedError,
)
from allin.live.protocol import (
    ControlEvent,
    DecodeErrorEvent,
    GiftEvent,
    GiftStreakTracker,
    LiveEvent,
    UnknownEvent,
)
from allin.live.protocol import webcast_pb2 as pb
from allin.simulator.live.simulator import (
    AGE_RESTRICTED_STREAMER,
    OFFLINE_STREAMER,
)
from tests.simulator.live.support import STREAMER, assert_contiguous, options, simulated
from tests.support.server import serve

pytestmark = pytest.mark.timeout(30)


async def take(client: LiveClient, count: int) -> list[LiveEvent]:
    received: list[LiveEvent] = []
    async with aclosing(client.events()) as events:
        async for event in events:
            received.append(event)
            if len(received) >= count:
                break
    return received


async def test_events_arrive_in_timeline_order_with_acks_and_heartbeats() -> None:
    async with simulated() as running:
        client = LiveClient(STREAMER, options=options(running.urls))
        received = await asyncio.wait_for(take(client, 60), 15)
        room = running.simulator.room(STREAMER)
        assert room is not None
        assert_contiguous(room, received)
        assert client.room_id == room.room_id
        [connection] = running.simulator.connections
        # One ack per msg frame, echoing its log id and the fetch result's internal_ext.
        assert connection.acks
        assert all(ack.payload.startswith(b"internal_src:dim|") for ack in connection.acks)
        assert len({ack.log_id for ack in connection.acks}) == len(connection.acks)
        # im_enter_room first, then heartbeats numbered 1, 2, 3... at the server's interval.
        assert connection.enter_rooms[0].room_id == room.room_id
        assert connection.enter_rooms[0].identity == "audience"
        seqs = [hb.seq_id for hb in connection.heartbeats]
        assert seqs == list(range(1, len(seqs) + 1))
        assert all(hb.room_id == room.room_id for hb in connection.heartbeats)


async def test_heartbeats_follow_the_server_interval() -> None:
    async with simulated() as running:
        client = LiveClient(STREAMER, options=options(running.urls))
        async with aclosing(client.events()) as events:
            async for _ in events:
                if client.status.state == "connected":
                    break
            await asyncio.sleep(1.0)
            [connection] = running.simulator.connections
            # 0.2 s interval (Handshake-Options) over ~1 s: about 5, certainly not 1 or 50.
            assert 3 <= len(connection.heartbeats) <= 9


async def test_gift_streaks_count_once() -> None:
    async with simulated() as running:
        client = LiveClient(STREAMER, options=options(running.urls))
        received = await asyncio.wait_for(take(client, 200), 20)
    gifts = [e for e in received if isinstance(e, GiftEvent)]
    assert any(g.streaking for g in gifts), "the busy scenario sends open streaks"
    tracker = GiftStreakTracker()
    finished = [s for g in gifts if (s := tracker.feed(g)) is not None]
    finals = [g for g in gifts if g.repeat_end or not g.streakable]
    # Exactly one finished streak per final (or single) message, with its count and value.
    assert [(s.group_id, s.gift_id, s.repeat_count, s.diamonds) for s in finished] == [
        (g.group_id, g.gift_id, g.repeat_count, g.diamonds) for g in finals
    ]
    # Within a streak the count grows by one per message until the final repeats it.
    for group in {g.group_id for g in gifts if g.streakable and g.repeat_count == 1}:
        counts = [(g.repeat_count, g.repeat_end) for g in gifts if g.group_id == group]
        if counts[-1][1]:
            n = counts[-1][0]
            assert counts == [(i, False) for i in range(1, n + 1)] + [(n, True)]


async def test_handlers_receive_their_types() -> None:
    async with simulated() as running:
        client = LiveClient(STREAMER, options=options(running.urls))
        chats: list[LiveEvent] = []
        everything: list[LiveEvent] = []

        async def on_any(event: LiveEvent) -> None:
            everything.append(event)
            if len(everything) >= 40:
                await client.close()

        client.on("chat", chats.append)
        client.on("*")(on_any)
        await asyncio.wait_for(client.run(), 15)
    assert len(everything) >= 40
    assert chats == [e for e in everything if e.type == "chat"]
    assert chats


async def test_stream_end_closes_the_client_with_the_reason() -> None:
    async with simulated() as running:
        client = LiveClient(STREAMER, options=options(running.urls))
        received: list[LiveEvent] = []

        async def consume() -> None:
            async with aclosing(client.events()) as events:
                async for event in events:
                    received.append(event)
                    if len(received) == 10:
                        running.simulator.end_stream(STREAMER)

        await asyncio.wait_for(consume(), 15)
    assert isinstance(received[-1], ControlEvent)
    assert received[-1].action == "ended"
    assert client.close_reason == "ended_by_host"
    assert client.status.state == "ended"


async def test_offline_user() -> None:
    async with simulated() as running:
        client = LiveClient(OFFLINE_STREAMER, options=options(running.urls))
        with pytest.raises(UserOfflineError) as info:
            await take(client, 1)
    assert info.value.code == "LIVE_USER_OFFLINE"


async def test_unknown_user() -> None:
    async with simulated() as running:
        client = LiveClient("nobody_at_all", options=options(running.urls))
        with pytest.raises(UserNotFoundError) as info:
            await take(client, 1)
    assert info.value.username == "nobody_at_all"


async def test_age_restricted_user() -> None:
    async with simulated() as running:
        client = LiveClient(AGE_RESTRICTED_STREAMER, options=options(running.urls))
        with pytest.raises(AgeRestrictedError):
            await take(client, 1)


async def test_sign_rate_limit_is_typed_with_retry_after() -> None:
    async with simulated() as running:
        running.simulator.faults.sign_rate_limits = 1
        running.simulator.faults.sign_retry_after = 42
        client = LiveClient(STREAMER, options=options(running.urls))
        with pytest.raises(SignRateLimitedError) as info:
            await take(client, 1)
        assert info.value.retry_after == 42
        assert info.value.limit_label == "minute"
        assert info.value.code == "LIVE_SIGN_RATE_LIMITED"
        # The limit was one request: the next attempt connects.
        assert await asyncio.wait_for(
            take(LiveClient(STREAMER, options=options(running.urls)), 3), 10
        )


async def test_rate_limit_during_reconnect_waits_and_recovers() -> None:
    async with simulated() as running:
        sim = running.simulator
        client = LiveClient(STREAMER, options=options(running.urls))
        received: list[LiveEvent] = []
        async with aclosing(client.events()) as events:
            async for event in events:
                received.append(event)
                if len(received) == 20:
                    sim.faults.sign_rate_limits = 1
                    sim.faults.sign_retry_after = 1
                    sim.drop_sockets()
                if len(received) == 80:
                    break
        room = sim.room(STREAMER)
        assert room is not None
        assert_contiguous(room, received)
        assert sim.faults.sign_rate_limits == 0
        assert client.status.reconnects >= 2


async def test_refused_websocket_falls_back_to_polling() -> None:
    async with simulated() as running:
        sim = running.simulator
        sim.faults.ws_rejections = 1
        client = LiveClient(STREAMER, options=options(running.urls))
        received = await asyncio.wait_for(take(client, 40), 15)
        room = sim.room(STREAMER)
        assert room is not None
        assert_contiguous(room, received)
        assert client.status.transport == "polling"
        assert sim.rejected_handshakes == 1
        assert sim.connections == []


async def test_refused_websocket_without_fallback_is_typed() -> None:
    async with simulated() as running:
        running.simulator.faults.ws_rejections = 1
        running.simulator.faults.ws_reject_msg = "illegal app_id"
        running.simulator.faults.ws_reject_status = "417"
        client = LiveClient(STREAMER, options=options(running.urls, polling_fallback=False))
        with pytest.raises(WebSocketRejectedError) as info:
            await take(client, 5)
    assert (info.value.handshake_msg, info.value.handshake_status) == ("illegal app_id", "417")
    assert info.value.http_status == 200


async def test_malformed_frames_and_unknown_types_become_events() -> None:
    async with simulated() as running:
        sim = running.simulator
        client = LiveClient(STREAMER, options=options(running.urls))
        received: list[LiveEvent] = []
        async with asyncio.timeout(10), aclosing(client.events()) as events:
            async for event in events:
                received.append(event)
                if len(received) == 5:
                    sim.send_malformed()
                    injected = sim.inject_unknown(STREAMER, "WebcastBrandNewMessage")
                # The garbage frame and the injected message may cross: a batch that was
                # already waiting out its window goes first. Wait for both.
                if (
                    len(received) > 5
                    and any(e.msg_id == injected.msg_id for e in received)
                    and any(isinstance(e, DecodeErrorEvent) for e in received)
                ):
                    break
    errors = [e for e in received if isinstance(e, DecodeErrorEvent)]
    assert len(errors) == 1 and errors[0].method == "WebcastPushFrame"
    unknown = [e for e in received if isinstance(e, UnknownEvent) and e.msg_id == injected.msg_id]
    assert unknown[0].method == "WebcastBrandNewMessage"
    assert client.status.reconnects == 0  # a bad frame is not a reason to reconnect


async def test_stalled_socket_is_replaced_without_loss() -> None:
    async with simulated() as running:
        sim = running.simulator
        client = LiveClient(STREAMER, options=options(running.urls, stall_timeout=0.6))
        received: list[LiveEvent] = []
        async with aclosing(client.events()) as events:
            async for event in events:
                received.append(event)
                if len(received) == 10:
                    sim.stall(5.0)
                if len(sim.connections) == 2 and client.status.state == "connected":
                    break
        room = sim.room(STREAMER)
        assert room is not None
        assert_contiguous(room, received)
        assert client.status.reconnects == 1


async def test_close_from_another_task_ends_iteration() -> None:
    async with simulated() as running:
        client = LiveClient(STREAMER, options=options(running.urls))
        count = 0

        async def stop_soon() -> None:
            await asyncio.sleep(0.8)
            await client.close()

        stopper = asyncio.create_task(stop_soon())
        async with aclosing(client.events()) as events:
            async for _ in events:
                count += 1
        await stopper
    assert count > 0
    assert client.status.state == "closed"


async def test_a_client_runs_once_at_a_time() -> None:
    async with simulated() as running:
        client = LiveClient(STREAMER, options=options(running.urls))
        async with aclosing(client.events()) as first:
            await anext(first)
            with pytest.raises(RuntimeError):
                await anext(client.events())


async def test_a_fetch_without_push_server_is_polled() -> None:
    """Euler's "fallback proxy" answers carried no usable socket: the client polls instead."""
    async with simulated() as running:
        app = FastAPI()

        @app.get("/webcast/fetch")
        async def fallback_fetch(request: Request) -> Response:
            async with httpx.AsyncClient() as http:
                tiktok = await http.get(
                    running.urls.webcast + "/im/fetch/",
                    params={"room_id": request.query_params["room_id"], "client_enter": "1"},
                    headers={"User-Agent": request.query_params["user_agent"]},
                )
            result = pb.ProtoMessageFetchResult.FromString(tiktok.content)
            result.ClearField("push_server")
            result.route_params.clear()
            cookie = f"ttwid={tiktok.cookies['ttwid']}"
            return Response(result.SerializeToString(), headers={"X-Set-TT-Cookie": cookie})

        async with serve(app) as sign_base:
            client = LiveClient(STREAMER, options=options(running.urls, sign_url=sign_base))
            received = await asyncio.wait_for(take(client, 40), 15)
        room = running.simulator.room(STREAMER)
        assert room is not None
        assert_contiguous(room, received)
        assert client.status.transport == "polling"
        assert running.simulator.connections == []
