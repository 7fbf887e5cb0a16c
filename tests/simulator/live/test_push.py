"""The push server, driven by a raw WebSocket client: admission, frames, heartbeats, acks,
resumption, and every transport fault."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from urllib.parse import urlencode

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from allin.live.protocol import (
    FetchResult,
    PushFrame,
    WebcastDecodeError,
    decode_fetch_result,
    decode_push_frame,
    encode_ack,
    encode_enter_room,
    encode_heartbeat,
)
from allin.simulator.live.rooms import decode_cursor
from allin.simulator.live.server import RunningSimulator
from tests.simulator.live.support import FAST, STREAMER, simulated

pytestmark = pytest.mark.timeout(30)
UA = "Mozilla/5.0 (test)"


@pytest.fixture
async def running() -> AsyncIterator[RunningSimulator]:
    async with simulated() as running:
        yield running


def rid(running: RunningSimulator) -> int:
    room = running.simulator.room(STREAMER)
    assert room is not None
    return room.room_id


async def first_fetch(running: RunningSimulator, ua: str = UA) -> tuple[FetchResult, str]:
    await asyncio.sleep(0.35)  # the busy room starts after 0.3 s
    async with httpx.AsyncClient() as http:
        response = await http.get(
            running.urls.webcast + "/im/fetch/",
            params={"room_id": rid(running), "client_enter": "1"},
            headers={"User-Agent": ua},
        )
    return decode_fetch_result(response.content), response.cookies["ttwid"]


def url(result: FetchResult, room_id: int, **extra: str) -> str:
    params = {**result.route_params, "room_id": str(room_id), "compress": "gzip", **extra}
    return f"{result.push_server}?{urlencode(params)}"


async def open_socket(
    running: RunningSimulator, ua: str = UA, **extra: str
) -> tuple[ClientConnection, FetchResult]:
    result, ttwid = await first_fetch(running, ua)
    ws = await websockets.connect(
        url(result, rid(running), **extra),
        additional_headers={"Cookie": f"ttwid={ttwid}"},
        user_agent_header=ua,
        subprotocols=[websockets.Subprotocol("echo-protocol")],
        ping_interval=None,
    )
    return ws, result


async def next_frame(ws: ClientConnection, payload_type: str = "msg") -> PushFrame:
    while True:
        frame = decode_push_frame(await asyncio.wait_for(ws.recv(), 5))  # type: ignore[arg-type]
        if frame.payload_type == payload_type:
            return frame


async def rejected(
    running: RunningSimulator, target: str, **kwargs: object
) -> tuple[int, str, str]:
    with pytest.raises(websockets.InvalidStatus) as info:
        await websockets.connect(target, **kwargs)  # type: ignore[arg-type]
    response = info.value.response
    return (
        response.status_code,
        response.headers["Handshake-Msg"],
        response.headers["Handshake-Status"],
    )


async def test_accepted_socket_streams_gzip_msg_frames(running: RunningSimulator) -> None:
    ws, result = await open_socket(running)
    async with ws:
        assert ws.subprotocol == "echo-protocol"
        assert ws.response is not None
        assert ws.response.headers["Handshake-Options"] == "ping-interval=0.2"
        await ws.send(encode_enter_room(rid(running)))
        frame = await next_frame(ws)
        assert frame.compressed and frame.headers["compress_type"] == "gzip"
        assert (frame.service, frame.method) == (8888, 8)
        fetched = decode_fetch_result(frame.payload)
        assert fetched.need_ack and fetched.cursor == frame.headers["im-cursor"]
        room = running.simulator.room(STREAMER)
        assert room is not None
        start = decode_cursor(result.cursor)
        assert start is not None
        expected = [
            item.event.msg_id for item in room.events[start : start + len(fetched.messages)]
        ]
        assert [e.msg_id for e in fetched.messages] == expected


async def test_without_compress_frames_say_none(running: RunningSimulator) -> None:
    result, ttwid = await first_fetch(running)
    target = url(result, rid(running)).replace("compress=gzip", "compress=")
    async with websockets.connect(
        target, additional_headers={"Cookie": f"ttwid={ttwid}"}, user_agent_header=UA
    ) as ws:
        frame = await next_frame(ws)
    assert not frame.compressed and frame.headers["compress_type"] == "none"


async def test_heartbeat_enter_room_and_ack_are_answered_and_recorded(
    running: RunningSimulator,
) -> None:
    ws, _ = await open_socket(running)
    async with ws:
        await ws.send(encode_enter_room(rid(running), cursor="x"))
        response = await next_frame(ws, "im_enter_room_resp")
        assert decode_fetch_result(response.payload).cursor
        await ws.send(encode_heartbeat(rid(running), 1))
        echo = await next_frame(ws, "hb")
        assert echo.payload  # the heartbeat comes back
        frame = await next_frame(ws)
        ext = decode_fetch_result(frame.payload).internal_ext
        await ws.send(encode_ack(frame.log_id, ext))
        await asyncio.sleep(0.1)
    [connection] = running.simulator.connections
    assert connection.enter_rooms[0].cursor == "x"
    assert [(h.room_id, h.seq_id) for h in connection.heartbeats] == [(rid(running), 1)]
    assert connection.acks[0].log_id == frame.log_id and connection.acks[0].payload == ext.encode()


async def test_no_heartbeats_close_the_socket(running: RunningSimulator) -> None:
    ws, _ = await open_socket(running)
    with pytest.raises(websockets.ConnectionClosedOK) as info:
        async with asyncio.timeout(5):
            while True:
                await ws.recv()
    assert info.value.rcvd is not None
    assert (info.value.rcvd.code, info.value.rcvd.reason) == (1000, "payload_handler_hb")


@pytest.mark.parametrize("case", ["no_user_agent", "no_token", "bad_cookie", "other_agent", "room"])
async def test_handshakes_tiktok_would_refuse(running: RunningSimulator, case: str) -> None:
    result, ttwid = await first_fetch(running)
    good = {"additional_headers": {"Cookie": f"ttwid={ttwid}"}, "user_agent_header": UA}
    target = url(result, rid(running))
    if case == "no_user_agent":
        got = await rejected(running, target, **{**good, "user_agent_header": None})
        assert got == (200, "DEVICE_BLOCKED", "415")
        return
    if case == "no_token":
        target = target.replace("wrss=", "wrss=forged")
    elif case == "bad_cookie":
        good["additional_headers"] = {"Cookie": "ttwid=someone-else"}
    elif case == "other_agent":
        good["user_agent_header"] = "curl/8"
    else:
        target = url(result, rid(running) + 1)
    assert await rejected(running, target, **good) == (200, "illegal secret key", "417")
    assert running.simulator.connections == []


async def test_forced_rejection_and_expired_session() -> None:
    async with simulated(replace(FAST, session_ttl=0.2)) as running:
        running.simulator.faults.ws_rejections = 1
        result, ttwid = await first_fetch(running)
        good = {"additional_headers": {"Cookie": f"ttwid={ttwid}"}, "user_agent_header": UA}
        target = url(result, rid(running))
        assert await rejected(running, target, **good) == (200, "DEVICE_BLOCKED", "415")
        await asyncio.sleep(0.3)
        assert await rejected(running, target, **good) == (200, "illegal secret key", "417")
        assert running.simulator.rejected_handshakes == 2


async def test_resume_from_a_cursor_with_replay() -> None:
    async with simulated(replace(FAST, replay_on_resume=2)) as running:
        result, ttwid = await first_fetch(running)
        await asyncio.sleep(0.3)
        async with httpx.AsyncClient(cookies={"ttwid": ttwid}) as http:
            response = await http.get(
                running.urls.webcast + "/im/fetch/",
                params={"room_id": rid(running), "cursor": result.cursor},
                headers={"User-Agent": UA},
            )
        again = decode_fetch_result(response.content)
        resumed_at = decode_cursor(again.cursor)
        assert resumed_at is not None and len(again.messages) >= 3
        async with websockets.connect(
            url(again, rid(running), cursor=again.cursor),
            additional_headers={"Cookie": f"ttwid={ttwid}"},
            user_agent_header=UA,
        ) as ws:
            frame = await next_frame(ws)
        replayed = [e.msg_id for e in decode_fetch_result(frame.payload).messages][:2]
        assert replayed == [e.msg_id for e in again.messages[-2:]]


async def test_drop_cuts_without_a_close_frame(running: RunningSimulator) -> None:
    ws, _ = await open_socket(running)
    await next_frame(ws)
    assert running.simulator.drop_sockets() == 1
    with pytest.raises(websockets.ConnectionClosedError) as info:
        async with asyncio.timeout(5):
            while True:
                await ws.recv()
    assert info.value.rcvd is None


async def test_stall_then_resume_without_loss(running: RunningSimulator) -> None:
    ws, _ = await open_socket(running)

    async def heartbeats() -> None:
        for n in range(1, 100):
            await ws.send(encode_heartbeat(rid(running), n))
            await asyncio.sleep(0.1)

    async with ws:
        before = decode_fetch_result((await next_frame(ws)).payload)
        running.simulator.stall(0.6)
        beating = asyncio.create_task(heartbeats())
        started = asyncio.get_running_loop().time()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), 0.4)  # silence, not even the heartbeat echo
        after = decode_fetch_result((await next_frame(ws)).payload)
        assert asyncio.get_running_loop().time() - started >= 0.5
        beating.cancel()
    room = running.simulator.room(STREAMER)
    assert room is not None
    ids = [item.event.msg_id for item in room.events]
    last = ids.index(before.messages[-1].msg_id)
    assert after.messages[0].msg_id == ids[last + 1]


async def test_malformed_frame(running: RunningSimulator) -> None:
    ws, _ = await open_socket(running)
    async with ws:
        await next_frame(ws)
        running.simulator.send_malformed()
        async with asyncio.timeout(5):
            while True:
                data = await ws.recv()
                try:
                    decode_push_frame(data)  # type: ignore[arg-type]
                except WebcastDecodeError:
                    break


async def test_stream_end_is_sent_then_the_socket_closes(running: RunningSimulator) -> None:
    ws, _ = await open_socket(running)
    await next_frame(ws)
    end = running.simulator.end_stream(STREAMER)
    methods: list[int] = []
    with pytest.raises(websockets.ConnectionClosedOK) as info:
        async with asyncio.timeout(5):
            while True:
                await ws.send(encode_heartbeat(rid(running), 1))
                frame = decode_push_frame(await ws.recv())  # type: ignore[arg-type]
                if frame.payload_type == "msg":
                    methods += [e.msg_id for e in decode_fetch_result(frame.payload).messages]
    assert methods[-1] == end.msg_id
    assert info.value.rcvd is not None and info.value.rcvd.reason == "stream ended"
