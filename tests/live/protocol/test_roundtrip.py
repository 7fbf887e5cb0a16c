"""encode -> decode gives back the same event, for every event type."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allin.live.protocol import (
    EVENT_TYPES,
    DecodeErrorEvent,
    decode_fetch_result,
    decode_message,
    encode_event,
    encode_fetch_result,
)

from .strategies import STRATEGIES, any_event


def test_every_event_type_has_a_strategy() -> None:
    modelled = {cls.type for cls in EVENT_TYPES} - {"decode_error"}
    assert modelled == set(STRATEGIES)


@pytest.mark.parametrize("kind", sorted(STRATEGIES))
@settings(max_examples=60)
@given(data=st.data())
def test_round_trip(kind: str, data: st.DataObject) -> None:
    event: Any = data.draw(STRATEGIES[kind])
    method, payload = encode_event(event)
    decoded = decode_message(method, payload)
    assert decoded == event
    assert decoded.type == kind
    assert decoded.raw == payload
    json.dumps(decoded.to_dict())


@given(payload=st.binary(min_size=1, max_size=8))
def test_decode_error_round_trip(payload: bytes) -> None:
    first = decode_message("WebcastChatMessage", b"\x1a\x01\xff" + payload)  # bad UTF-8
    assert isinstance(first, DecodeErrorEvent)
    assert decode_message(*encode_event(first)) == first


@settings(max_examples=50)
@given(
    events=st.lists(any_event, max_size=6),
    cursor=st.text(max_size=10),
    internal_ext=st.text(max_size=10),
    need_ack=st.booleans(),
    route_params=st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
)
def test_fetch_result_round_trip(
    events: list[Any],
    cursor: str,
    internal_ext: str,
    need_ack: bool,
    route_params: dict[str, str],
) -> None:
    body = encode_fetch_result(
        events,
        cursor=cursor,
        internal_ext=internal_ext,
        need_ack=need_ack,
        route_params=route_params,
        heartbeat_duration=10_000,
        push_server="wss://example.invalid/ws",
        is_first=True,
        fetch_interval=1000,
        now=1_700_000_000_000,
    )
    result = decode_fetch_result(body)
    assert result.error == ""
    assert result.messages == tuple(events)
    assert (result.cursor, result.internal_ext, result.need_ack) == (cursor, internal_ext, need_ack)
    assert result.route_params == route_params
    assert (result.heartbeat_duration, result.push_server, result.is_first) == (
        10_000,
        "wss://example.invalid/ws",
        True,
    )
    assert (result.fetch_interval, result.now) == (1000, 1_700_000_000_000)
