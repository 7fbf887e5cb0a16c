"""Decoders never raise on arbitrary or damaged bytes; they report DecodeErrorEvent instead."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allin.live.protocol import (
    EVENT_TYPES,
    ChatEvent,
    DecodeErrorEvent,
    FetchResult,
    FrameDecodeResult,
    WebcastDecodeError,
    decode_fetch_result,
    decode_frame_events,
    decode_message,
    decode_push_frame,
    encode_event,
    encode_fetch_result,
    encode_push_frame,
)
from allin.live.protocol.decode import DECODERS

from .strategies import any_event

METHODS = [*sorted(DECODERS), "WebcastBarrageMessage", ""]


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def assert_events(events: tuple[Any, ...]) -> None:
    assert all(isinstance(e, EVENT_TYPES) for e in events)


@given(st.binary(max_size=300))
def test_frames_never_raise(data: bytes) -> None:
    result = decode_frame_events(data)
    assert isinstance(result, FrameDecodeResult)
    assert_events(result.events)
    if result.frame is None:
        (bad,) = result.events
        assert isinstance(bad, DecodeErrorEvent) and bad.payload == data


@given(st.binary(max_size=300))
def test_fetch_results_never_raise(data: bytes) -> None:
    result = decode_fetch_result(data)
    assert isinstance(result, FetchResult)
    assert_events(result.messages)


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=60)
@given(data=st.binary(max_size=200))
def test_messages_never_raise(method: str, data: bytes) -> None:
    event = decode_message(method, data)
    assert isinstance(event, EVENT_TYPES)
    assert event.method == method
    assert event.raw == data


@settings(max_examples=150)
@given(event=any_event, data=st.data())
def test_damaged_messages_never_raise(event: Any, data: st.DataObject) -> None:
    method, payload = encode_event(event)
    cut = data.draw(st.integers(0, len(payload)))
    flip = data.draw(st.integers(0, max(len(payload) - 1, 0)))
    damaged = bytearray(payload[:cut] + payload[cut + 1 :])
    if damaged:
        damaged[flip % len(damaged)] ^= data.draw(st.integers(1, 255))
    assert isinstance(decode_message(method, bytes(damaged)), EVENT_TYPES)


@settings(max_examples=50)
@given(events=st.lists(any_event, min_size=1, max_size=3), data=st.data())
def test_damaged_frames_never_raise(events: list[Any], data: st.DataObject) -> None:
    gzip = data.draw(st.booleans())
    frame = bytearray(encode_push_frame(encode_fetch_result(events), gzip=gzip))
    index = data.draw(st.integers(0, len(frame) - 1))
    frame[index] ^= data.draw(st.integers(1, 255))
    assert_events(decode_frame_events(bytes(frame)).events)


def test_invalid_utf8_is_a_decode_error_not_an_exception() -> None:
    payload = b"\x1a\x02\xc3\x28"  # field 3 (content) with an invalid UTF-8 sequence
    event = decode_message("WebcastChatMessage", payload)
    assert isinstance(event, DecodeErrorEvent)
    assert event.type == "decode_error"
    assert event.method == "WebcastChatMessage"
    assert event.payload == payload
    assert "DecodeError" in event.error


def test_deep_nesting_is_a_decode_error() -> None:
    payload = b""
    for _ in range(300):  # field 1 (common) nested far beyond any recursion limit
        payload = b"\x0a" + _varint(len(payload)) + payload
    assert isinstance(decode_message("WebcastChatMessage", payload), EVENT_TYPES)
    assert_events(decode_frame_events(payload).events)


def test_wrong_wire_type_is_skipped_not_fatal() -> None:
    # content (field 3) sent as a varint: tolerated as an unknown field, like any schema drift
    event = decode_message("WebcastChatMessage", b"\x18\x05")
    assert isinstance(event, ChatEvent) and event.content == ""


def test_decode_push_frame_raises_typed_error() -> None:
    with pytest.raises(WebcastDecodeError):
        decode_push_frame(b"\xff\xff\xff")
