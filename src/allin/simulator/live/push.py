"""TikTok's WebSocket push server: admits a socket only with what the fetch handed out (route
params, ttwid cookie, the same User-Agent), refuses like TikTok does (HTTP 200 with
Handshake-Msg/Handshake-Status), then streams gzip "msg" frames, answers heartbeats and
im_enter_room, and records acks."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl

from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from allin.core.clock import clock
from allin.live.protocol import (
    EnterRoom,
    Heartbeat,
    LiveEvent,
    WebcastDecodeError,
    decode_enter_room,
    decode_heartbeat,
    decode_push_frame,
    encode_fetch_result,
    encode_push_frame,
)
from allin.simulator.live.rooms import Room, decode_cursor, encode_cursor, internal_ext
from allin.simulator.live.simulator import Simulator

PUSH_PATH = "/webcast/im/ws_proxy/ws_reuse_supplement/"
SUBPROTOCOL = "echo-protocol"
# TikTok's frames carry these service/method numbers (seen in real bytes: 18 b8 45 / 20 08).
FRAME_SERVICE = 8888
FRAME_METHOD = 8


@dataclass(frozen=True, slots=True)
class Ack:
    log_id: int
    payload: bytes


async def push_endpoint(websocket: WebSocket) -> None:
    sim: Simulator = websocket.app.state.simulator
    params = dict(parse_qsl(websocket.scope.get("query_string", b"").decode("latin-1"), True))
    verdict = _admit(sim, websocket, params)
    if isinstance(verdict, Rejection):
        sim.rejected_handshakes += 1
        # TikTok refuses with 200 instead of 101 and says why in these headers.
        headers = {"Handshake-Msg": verdict.msg, "Handshake-Status": verdict.status}
        await websocket.send_denial_response(Response(b"", status_code=200, headers=headers))
        return
    room, start = verdict
    offered = websocket.scope.get("subprotocols") or []
    interval = sim.config.heartbeat_interval
    await websocket.accept(
        subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None,
        headers=[(b"handshake-options", f"ping-interval={interval:g}".encode())],
    )
    connection = PushConnection(sim, room, websocket, start, gzip=params.get("compress") == "gzip")
    sim.connections.append(connection)
    await connection.run()


@dataclass(frozen=True, slots=True)
class Rejection:
    msg: str
    status: str


BAD_KEY = Rejection("illegal secret key", "417")


def _admit(
    sim: Simulator, websocket: WebSocket, params: dict[str, str]
) -> Rejection | tuple[Room, int]:
    """(room, start index) to accept, or why TikTok would refuse."""
    forced = sim.faults.take_ws_rejection()
    if forced is not None:
        return Rejection(*forced)
    user_agent = websocket.headers.get("user-agent", "")
    if not user_agent:
        return Rejection("DEVICE_BLOCKED", "415")
    session = sim.session(params.get("wrss", ""))
    raw_room = params.get("room_id", "")
    if session is None or not raw_room.isdigit() or int(raw_room) != session.room_id:
        return BAD_KEY
    cookies = SimpleCookie()
    with contextlib.suppress(Exception):
        cookies.load(websocket.headers.get("cookie", ""))
    ttwid = cookies["ttwid"].value if "ttwid" in cookies else ""
    if ttwid != session.ttwid or user_agent != session.user_agent:
        return BAD_KEY
    room = sim.room_by_id(session.room_id)
    if room is None:
        return Rejection("illegal room_id", "417")
    start = decode_cursor(params.get("cursor", ""))
    if start is None or start > room.due(sim.now_ms()):
        return room, session.index
    # A replay repeats only what this session's fetch already delivered.
    return room, max(session.first_index, start - sim.config.replay_on_resume)


class PushConnection:
    """One accepted socket: a writer streaming the room from `index`, a reader answering the
    client. Tests read `acks`, `heartbeats` and `enter_rooms` to see what the client sent."""

    def __init__(
        self, sim: Simulator, room: Room, websocket: WebSocket, index: int, *, gzip: bool
    ) -> None:
        self.sim = sim
        self.room = room
        self.websocket = websocket
        self.index = index
        self.start_index = index
        self.gzip = gzip
        self.open = True
        self.acks: list[Ack] = []
        self.heartbeats: list[Heartbeat] = []
        self.enter_rooms: list[EnterRoom] = []
        self.sent_frames = 0
        self.bad_frames = 0
        self._seq = 0
        self._first_ms = sim.now_ms()
        self._dropped = False
        self._stalled_until = 0.0
        self._malformed = 0
        self._wake = asyncio.Event()
        self._send_lock = asyncio.Lock()

    # -- actions from the Simulator --------------------------------------------------------

    def drop(self) -> None:
        self._dropped = True
        self._wake.set()

    def stall(self, seconds: float) -> None:
        self._stalled_until = clock.monotonic() + seconds
        self._wake.set()

    def send_malformed(self) -> None:
        self._malformed += 1
        self._wake.set()

    # -- the two halves --------------------------------------------------------------------

    async def run(self) -> None:
        tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._write())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            outcome = next(iter(done)).result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.open = False
        if outcome is not None and not self._dropped:
            # Returning without a close frame makes the server cut the TCP connection: that
            # is how a drop looks to the client. Everything else closes cleanly.
            with contextlib.suppress(Exception):
                await self.websocket.close(code=1000, reason=outcome)

    async def _read(self) -> str | None:
        timeout = self.sim.config.effective_heartbeat_timeout
        while True:
            try:
                # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel.
                async with asyncio.timeout(timeout):
                    message = await self.websocket.receive()
            except TimeoutError:
                return "payload_handler_hb"  # no heartbeat: TikTok's close reason
            except WebSocketDisconnect:
                return None
            if message["type"] == "websocket.disconnect":
                return None
            data = message.get("bytes")
            if data is not None:
                await self._handle(data)

    async def _handle(self, data: bytes) -> None:
        try:
            frame = decode_push_frame(data)
            if frame.payload_type == "hb":
                self.heartbeats.append(decode_heartbeat(frame.payload))
                if not self._stalled():
                    await self._send(encode_push_frame(frame.payload, payload_type="hb"))
            elif frame.payload_type == "im_enter_room":
                self.enter_rooms.append(decode_enter_room(frame.payload))
                await self._send(self._frame("im_enter_room_resp", self.index))
            elif frame.payload_type == "ack":
                self.acks.append(Ack(frame.log_id, frame.payload))
            else:
                self.bad_frames += 1
        except WebcastDecodeError:
            self.bad_frames += 1

    async def _write(self) -> str | None:
        config = self.sim.config
        while not self._dropped:
            if self._stalled():
                await self._sleep(self._stalled_until - clock.monotonic())
                continue
            if self._malformed:
                self._malformed -= 1
                await self._send(os.urandom(3) + b"\xff\xff\xff\xff not a push frame")
                continue
            available = self.room.due(self.sim.now_ms())
            if self.index < available:
                await asyncio.sleep(config.batch_window)
                await self._send_batch()
                continue
            if self.room.ended:
                await self._sleep(config.close_grace)
                return "stream ended"
            await self._wait_for_events()
        return "dropped"

    async def _send_batch(self) -> None:
        available = self.room.due(self.sim.now_ms())
        end = min(available, self.index + self.sim.config.max_batch)
        events = [item.event for item in self.room.events[self.index : end]]
        await self._send(self._frame("msg", end, events))
        self.index = end

    def _frame(self, payload_type: str, index: int, events: Sequence[LiveEvent] = ()) -> bytes:
        now = self.sim.now_ms()
        cursor = encode_cursor(index, now)
        ext = internal_ext(self.room.room_id, index, now, self._first_ms)
        config = self.sim.config
        payload = encode_fetch_result(
            events,
            cursor=cursor,
            fetch_interval=config.fetch_interval_ms,
            now=now,
            internal_ext=ext,
            fetch_type=1,
            heartbeat_duration=round(config.heartbeat_interval * 1000),
            need_ack=config.need_ack and payload_type == "msg",
        )
        self._seq += 1
        return encode_push_frame(
            payload,
            payload_type=payload_type,
            log_id=self.sim.next_log_id(),
            seq_id=self._seq,
            service=FRAME_SERVICE,
            method=FRAME_METHOD,
            headers={"im-cursor": cursor, "im-internal_ext": ext, "im-now": str(now)},
            gzip=self.gzip,
        )

    async def _wait_for_events(self) -> None:
        due_at = self.room.next_due_ms()
        delay = 3600.0 if due_at is None else max(0.0, (due_at - self.sim.now_ms()) / 1000)
        changed = self.room.changed
        wake = asyncio.create_task(self._wake.wait())
        room = asyncio.create_task(changed.wait())
        try:
            await asyncio.wait({wake, room}, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            wake.cancel()
            room.cancel()
        self._wake.clear()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, seconds)):
                await self._wake.wait()
        self._wake.clear()

    def _stalled(self) -> bool:
        return clock.monotonic() < self._stalled_until

    async def _send(self, data: bytes) -> None:
        async with self._send_lock:
            await self.websocket.send_bytes(data)
            self.sent_frames += 1
