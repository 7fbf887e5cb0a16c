"""Push frames, fetch results and the client frames (heartbeat, enter room, ack)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allin.live.protocol import (
    ChatEvent,
    DecodeErrorEvent,
    EnterRoom,
    Heartbeat,
    LikeEvent,
    WebcastDecodeError,
    decode_enter_room,
    decode_fetch_result,
    decode_frame_events,
    decode_heartbeat,
    decode_push_frame,
    encode_ack,
    encode_enter_room,
    encode_event,
    encode_fetch_result,
    encode_heartbeat,
    encode_push_frame,
)
from allin.live.protocol import webcast_pb2 as pb
from allin.live.protocol.frames import gunzip, gzip_bytes

from .strategies import any_event

CHAT = ChatEvent(msg_id=11, room_id=7, create_time=1_700_000_000_000, content="hi")
LIKE = LikeEvent(msg_id=12, room_id=7, count=3, total=300)


def test_heartbeat_bytes_are_what_clients_send() -> None:
    # {6: "pb", 7: "hb", 8: HeartBeatMessage{1: room_id, 2: seq}}
    assert encode_heartbeat(7, 3) == b"\x32\x02pb\x3a\x02hb\x42\x04\x08\x07\x10\x03"
    frame = decode_push_frame(encode_heartbeat(7_300_000_000_000_000_001, 42))
    assert (frame.payload_type, frame.payload_encoding) == ("hb", "pb")
    assert decode_heartbeat(frame.payload) == Heartbeat(
        room_id=7_300_000_000_000_000_001, seq_id=42
    )


def test_enter_room_has_the_reference_clients_defaults() -> None:
    frame = decode_push_frame(encode_enter_room(99, enter_unique_id=5))
    assert (frame.payload_type, frame.payload_encoding) == ("im_enter_room", "pb")
    assert decode_enter_room(frame.payload) == EnterRoom(
        room_id=99,
        cursor="",
        enter_unique_id=5,
        identity="audience",
        live_id=12,
        room_tag="",
        account_type=0,
        filter_welcome_msg="0",
    )


def test_ack_bytes() -> None:
    # {2: log_id, 6: "pb", 7: "ack", 8: internal_ext}
    assert encode_ack(5, "abc") == b"\x10\x05\x32\x02pb\x3a\x03ack\x42\x03abc"
    assert decode_push_frame(encode_ack(5, "")).payload == b"-"


def test_client_payload_decoders_reject_garbage() -> None:
    with pytest.raises(WebcastDecodeError):
        decode_heartbeat(b"\xff")
    with pytest.raises(WebcastDecodeError):
        decode_enter_room(b"\x0a\x05ab")


def test_msg_frame_to_events_and_ack() -> None:
    body = encode_fetch_result([CHAT, LIKE], need_ack=True, internal_ext="ext-1", cursor="c1")
    result = decode_frame_events(encode_push_frame(body, log_id=77, gzip=True))
    assert result.events == (CHAT, LIKE)
    assert result.needs_ack
    assert result.frame is not None and result.frame.compressed
    assert result.frame.headers == {"compress_type": "gzip"}
    assert result.ack_frame() == encode_ack(77, "ext-1")


def test_no_ack_unless_asked() -> None:
    result = decode_frame_events(encode_push_frame(encode_fetch_result([CHAT]), log_id=1))
    assert result.events == (CHAT,)
    assert not result.needs_ack and result.ack_frame() is None
    assert result.frame is not None and result.frame.headers == {"compress_type": "none"}


@pytest.mark.parametrize("payload_type", ["hb", "ack", "im_enter_room_resp"])
def test_non_msg_frames_carry_no_events(payload_type: str) -> None:
    body = encode_fetch_result([CHAT], need_ack=True)
    result = decode_frame_events(encode_push_frame(body, payload_type=payload_type))
    assert result.events == () and result.fetch is None and not result.needs_ack
    assert result.frame is not None and result.frame.payload_type == payload_type


def test_gzip_detected_by_magic_bytes_without_header() -> None:
    body = encode_fetch_result([CHAT])
    frame = pb.WebcastPushFrame(payload_type="msg", payload=gzip_bytes(body)).SerializeToString()
    result = decode_frame_events(frame)
    assert result.events == (CHAT,)
    assert result.frame is not None and result.frame.compressed and result.frame.payload == body


def test_gzip_header_with_plain_payload_is_an_error_event() -> None:
    frame = pb.WebcastPushFrame(
        payload_type="msg",
        headers=[pb.PushHeader(key="compress_type", value="gzip")],
        payload=encode_fetch_result([CHAT]),
    ).SerializeToString()
    result = decode_frame_events(frame)
    (bad,) = result.events
    assert isinstance(bad, DecodeErrorEvent) and "gzip" in bad.error
    assert result.frame is None and not result.needs_ack


def test_gunzip_limits_output() -> None:
    with pytest.raises(WebcastDecodeError, match="beyond"):
        gunzip(gzip_bytes(b"\0" * 10_000), limit=100)
    with pytest.raises(WebcastDecodeError, match="truncated"):
        gunzip(gzip_bytes(b"abc" * 100)[:20])


def test_envelope_msg_id_is_used_when_common_has_none() -> None:
    method, payload = encode_event(LikeEvent(count=1))
    body = pb.ProtoMessageFetchResult(
        messages=[pb.BaseProtoMessage(method=method, payload=payload, msg_id=99)]
    ).SerializeToString()
    (event,) = decode_fetch_result(body).messages
    assert isinstance(event, LikeEvent) and event.msg_id == 99


def test_sign_server_body_fields() -> None:
    body = encode_fetch_result(
        cursor="1700000000000_1",
        push_server="wss://webcast-ws.tiktok.com/webcast/im/ws_proxy/ws_reuse_supplement/",
        route_params={"wrss": "abc", "imprp": "xyz"},
        is_first=True,
        need_ack=True,
        heartbeat_duration=10_000,
        internal_ext="internal_src:dim|wss_push_room_id:1",
        fetch_interval=1000,
        now=1_700_000_000_000,
        fetch_type=1,
    )
    result = decode_fetch_result(body)
    assert result.messages == ()
    assert result.push_server.endswith("/ws_reuse_supplement/")
    assert result.route_params == {"wrss": "abc", "imprp": "xyz"}
    assert result.is_first and result.need_ack and result.fetch_type == 1
    assert decode_fetch_result(gzip_bytes(body)) == result


def test_unreadable_fetch_result_reports_error() -> None:
    result = decode_fetch_result(b"\x0a\x05\x0a\x10")
    assert result.error
    (bad,) = result.messages
    assert isinstance(bad, DecodeErrorEvent) and bad.method == "ProtoMessageFetchResult"


@settings(max_examples=50)
@given(
    events=st.lists(any_event, max_size=5),
    log_id=st.integers(-(2**63), 2**63 - 1),
    need_ack=st.booleans(),
)
def test_gzip_and_plain_frames_are_equivalent(
    events: list[Any], log_id: int, need_ack: bool
) -> None:
    body = encode_fetch_result(events, need_ack=need_ack, internal_ext="x")
    plain = decode_frame_events(encode_push_frame(body, log_id=log_id))
    zipped = decode_frame_events(encode_push_frame(body, log_id=log_id, gzip=True))
    assert plain.events == zipped.events == tuple(events)
    assert plain.fetch == zipped.fetch
    assert plain.needs_ack == zipped.needs_ack == need_ack
    assert plain.ack_frame() == zipped.ack_frame()
    assert plain.frame is not None and zipped.frame is not None
    assert plain.frame.payload == zipped.frame.payload == body
    assert (plain.frame.compressed, zipped.frame.compressed) == (False, True)
