"""WebSocket push frames and fetch results, both directions. Pure functions over bytes.

Incoming: push frame -> (gunzip) -> ProtoMessageFetchResult -> events, plus whether TikTok wants
an ack. Outgoing: the heartbeat, im_enter_room and ack frames real clients send, and the server
side (fetch results, msg frames) for the simulator.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from allin.live.protocol import webcast_pb2 as pb
from allin.live.protocol.decode import decode_message
from allin.live.protocol.encode import encode_event
from allin.live.protocol.events import DecodeErrorEvent, LiveEvent

GZIP_MAGIC = b"\x1f\x8b\x08"
COMPRESS_HEADER = "compress_type"
# A frame never legitimately inflates to this much; the limit stops gzip bombs.
MAX_PAYLOAD_BYTES = 32 * 1024 * 1024


class WebcastDecodeError(ValueError):
    """Bytes that are not a valid frame (or client message)."""


@dataclass(frozen=True, slots=True)
class PushFrame:
    """A decoded WebcastPushFrame; `payload` is already decompressed."""

    seq_id: int
    log_id: int
    service: int
    method: int
    headers: dict[str, str]
    payload_encoding: str
    payload_type: str
    payload: bytes = field(repr=False)
    compressed: bool = False


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A decoded ProtoMessageFetchResult with its messages as events, in order.
    If the bytes were unreadable, `error` says why and `messages` holds one DecodeErrorEvent."""

    messages: tuple[LiveEvent, ...] = ()
    cursor: str = ""
    fetch_interval: int = 0
    now: int = 0
    internal_ext: str = ""
    fetch_type: int = 0
    route_params: dict[str, str] = field(default_factory=dict)
    heartbeat_duration: int = 0
    need_ack: bool = False
    push_server: str = ""
    is_first: bool = False
    history_comment_cursor: str = ""
    history_no_more: bool = False
    error: str = ""


@dataclass(frozen=True, slots=True)
class FrameDecodeResult:
    """Everything one incoming frame means. `events` is empty for non-"msg" frames."""

    frame: PushFrame | None
    fetch: FetchResult | None
    events: tuple[LiveEvent, ...]
    needs_ack: bool
    error: str = ""

    def ack_frame(self) -> bytes | None:
        """The ack to send back, or None when TikTok did not ask for one."""
        if not self.needs_ack or self.frame is None or self.fetch is None:
            return None
        return encode_ack(self.frame.log_id, self.fetch.internal_ext)


@dataclass(frozen=True, slots=True)
class Heartbeat:
    room_id: int
    seq_id: int


@dataclass(frozen=True, slots=True)
class EnterRoom:
    room_id: int
    cursor: str
    enter_unique_id: int
    identity: str
    live_id: int
    room_tag: str
    account_type: int
    filter_welcome_msg: str


def gunzip(data: bytes, limit: int = MAX_PAYLOAD_BYTES) -> bytes:
    """Inflates one gzip member; raises WebcastDecodeError if invalid or larger than `limit`."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, limit)
    except zlib.error as exc:
        raise WebcastDecodeError(f"bad gzip payload: {exc}") from exc
    if inflater.unconsumed_tail:
        raise WebcastDecodeError(f"gzip payload inflates beyond {limit} bytes")
    if not inflater.eof:
        raise WebcastDecodeError("truncated gzip payload")
    return out


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip (no timestamp), as TikTok's compressed frames are."""
    deflater = zlib.compressobj(6, zlib.DEFLATED, 31)
    return deflater.compress(data) + deflater.flush()


# ---------------------------------------------------------------------------------------------
# Incoming


def decode_push_frame(data: bytes) -> PushFrame:
    """Parses a frame and decompresses its payload when the `compress_type` header says gzip or
    the payload starts with the gzip magic bytes. Raises WebcastDecodeError on bad bytes."""
    try:
        m = pb.WebcastPushFrame.FromString(data)
    except Exception as exc:
        raise WebcastDecodeError(f"not a push frame: {exc}") from exc
    headers = {h.key: h.value for h in m.headers}
    payload = m.payload
    compressed = headers.get(COMPRESS_HEADER) == "gzip" or payload[:3] == GZIP_MAGIC
    if compressed:
        payload = gunzip(payload)
    return PushFrame(
        seq_id=m.seq_id,
        log_id=m.log_id,
        service=m.service,
        method=m.method,
        headers=headers,
        payload_encoding=m.payload_encoding,
        payload_type=m.payload_type,
        payload=payload,
        compressed=compressed,
    )


def _message_events(messages: Iterable[pb.BaseProtoMessage]) -> tuple[LiveEvent, ...]:
    events = []
    for m in messages:
        event = decode_message(m.method, m.payload)
        if event.msg_id == 0 and m.msg_id:  # fall back to the envelope's id
            event = replace(event, msg_id=m.msg_id)
        events.append(event)
    return tuple(events)


def decode_fetch_result(payload: bytes) -> FetchResult:
    """Decodes a fetch result (a msg frame's payload, or a sign server's response body; gzip is
    detected by magic bytes). Never raises."""
    try:
        if payload[:3] == GZIP_MAGIC:
            payload = gunzip(payload)
        m = pb.ProtoMessageFetchResult.FromString(payload)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        bad = DecodeErrorEvent(
            method="ProtoMessageFetchResult", raw=payload, payload=payload, error=error
        )
        return FetchResult(messages=(bad,), error=error)
    return FetchResult(
        messages=_message_events(m.messages),
        cursor=m.cursor,
        fetch_interval=m.fetch_interval,
        now=m.now,
        internal_ext=m.internal_ext,
        fetch_type=m.fetch_type,
        route_params=dict(m.route_params),
        heartbeat_duration=m.heartbeat_duration,
        need_ack=m.need_ack,
        push_server=m.push_server,
        is_first=m.is_first,
        history_comment_cursor=m.history_comment_cursor,
        history_no_more=m.history_no_more,
    )


def decode_frame_events(frame_bytes: bytes) -> FrameDecodeResult:
    """frame -> fetch result -> events, in order. Never raises: an unreadable frame yields one
    DecodeErrorEvent. Only "msg" frames carry events (hb/ack/enter-room replies carry none)."""
    try:
        frame = decode_push_frame(frame_bytes)
    except WebcastDecodeError as exc:
        bad = DecodeErrorEvent(
            method="WebcastPushFrame", raw=frame_bytes, payload=frame_bytes, error=str(exc)
        )
        return FrameDecodeResult(
            frame=None, fetch=None, events=(bad,), needs_ack=False, error=str(exc)
        )
    if frame.payload_type != "msg":
        return FrameDecodeResult(frame=frame, fetch=None, events=(), needs_ack=False)
    fetch = decode_fetch_result(frame.payload)
    return FrameDecodeResult(
        frame=frame,
        fetch=fetch,
        events=fetch.messages,
        needs_ack=fetch.need_ack and not fetch.error,
        error=fetch.error,
    )


def decode_heartbeat(payload: bytes) -> Heartbeat:
    """Payload of a client's "hb" frame. Raises WebcastDecodeError on bad bytes."""
    try:
        m = pb.HeartBeatMessage.FromString(payload)
    except Exception as exc:
        raise WebcastDecodeError(f"not a heartbeat: {exc}") from exc
    return Heartbeat(room_id=m.room_id, seq_id=m.send_packet_seq_id)


def decode_enter_room(payload: bytes) -> EnterRoom:
    """Payload of a client's "im_enter_room" frame. Raises WebcastDecodeError on bad bytes."""
    try:
        m = pb.WebcastImEnterRoomMessage.FromString(payload)
    except Exception as exc:
        raise WebcastDecodeError(f"not an im_enter_room message: {exc}") from exc
    return EnterRoom(
        room_id=m.room_id,
        cursor=m.cursor,
        enter_unique_id=m.enter_unique_id,
        identity=m.identity,
        live_id=m.live_id,
        room_tag=m.room_tag,
        account_type=m.account_type,
        filter_welcome_msg=m.filter_welcome_msg,
    )


# ---------------------------------------------------------------------------------------------
# Outgoing


def encode_push_frame(
    payload: bytes,
    *,
    payload_type: str = "msg",
    log_id: int = 0,
    seq_id: int = 0,
    service: int = 0,
    method: int = 0,
    payload_encoding: str = "pb",
    headers: Mapping[str, str] | None = None,
    gzip: bool = False,
) -> bytes:
    """A WebcastPushFrame. With gzip=True the payload is compressed and the `compress_type`
    header says so; "msg" frames always carry that header (gzip or none), as TikTok's do."""
    all_headers = dict(headers or {})
    if gzip:
        payload = gzip_bytes(payload)
        all_headers[COMPRESS_HEADER] = "gzip"
    elif payload_type == "msg" or all_headers.get(COMPRESS_HEADER) == "gzip":
        all_headers[COMPRESS_HEADER] = "none"
    frame = pb.WebcastPushFrame(
        seq_id=seq_id,
        log_id=log_id,
        service=service,
        method=method,
        headers=[pb.PushHeader(key=k, value=v) for k, v in all_headers.items()],
        payload_encoding=payload_encoding,
        payload_type=payload_type,
        payload=payload,
    )
    return frame.SerializeToString()


def encode_fetch_result(
    events: Iterable[LiveEvent] = (),
    *,
    cursor: str = "",
    fetch_interval: int = 0,
    now: int = 0,
    internal_ext: str = "",
    fetch_type: int = 0,
    route_params: Mapping[str, str] | None = None,
    heartbeat_duration: int = 0,
    need_ack: bool = False,
    push_server: str = "",
    is_first: bool = False,
    history_comment_cursor: str = "",
    history_no_more: bool = False,
) -> bytes:
    """A ProtoMessageFetchResult carrying `events` (each encoded with encode_event)."""
    messages = []
    for event in events:
        method, body = encode_event(event)
        messages.append(pb.BaseProtoMessage(method=method, payload=body, msg_id=event.msg_id))
    result = pb.ProtoMessageFetchResult(
        messages=messages,
        cursor=cursor,
        fetch_interval=fetch_interval,
        now=now,
        internal_ext=internal_ext,
        fetch_type=fetch_type,
        route_params=dict(route_params or {}),
        heartbeat_duration=heartbeat_duration,
        need_ack=need_ack,
        push_server=push_server,
        is_first=is_first,
        history_comment_cursor=history_comment_cursor,
        history_no_more=history_no_more,
    )
    return result.SerializeToString()


def encode_heartbeat(room_id: int, seq_id: int = 1) -> bytes:
    """The "hb" frame clients send every few seconds (seq_id counts 1, 2, 3...)."""
    body = pb.HeartBeatMessage(room_id=room_id, send_packet_seq_id=seq_id).SerializeToString()
    return encode_push_frame(body, payload_type="hb")


def encode_enter_room(
    room_id: int,
    *,
    cursor: str = "",
    enter_unique_id: int = 0,
    identity: str = "audience",
    live_id: int = 12,
    room_tag: str = "",
    account_type: int = 0,
    filter_welcome_msg: str = "0",
) -> bytes:
    """The "im_enter_room" frame clients send once the first fetch result had is_first."""
    body = pb.WebcastImEnterRoomMessage(
        room_id=room_id,
        room_tag=room_tag,
        live_id=live_id,
        identity=identity,
        cursor=cursor,
        account_type=account_type,
        enter_unique_id=enter_unique_id,
        filter_welcome_msg=filter_welcome_msg,
    ).SerializeToString()
    return encode_push_frame(body, payload_type="im_enter_room")


def encode_ack(log_id: int, internal_ext: str) -> bytes:
    """The "ack" frame for an incoming frame whose fetch result had need_ack: the frame's
    log_id and the internal_ext as payload ("-" when empty, as the Python client sends)."""
    return encode_push_frame((internal_ext or "-").encode(), payload_type="ack", log_id=log_id)
