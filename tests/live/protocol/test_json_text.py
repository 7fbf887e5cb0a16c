"""`to_json()` writes exactly the compact JSON of `to_dict()`, for every event type."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allin.live.protocol import DecodeErrorEvent, EventUser, GiftInfo, decode_message, encode_event
from allin.live.protocol.models import json_text

from .strategies import STRATEGIES


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


@pytest.mark.parametrize("kind", sorted(STRATEGIES))
@settings(max_examples=60)
@given(data=st.data())
def test_to_json_is_the_compact_json_of_to_dict(kind: str, data: st.DataObject) -> None:
    event: Any = data.draw(STRATEGIES[kind])
    decoded = decode_message(*encode_event(event))
    for value in (event, decoded):
        assert value.to_json() == compact(value.to_dict()) == json_text(value.to_dict())


def test_to_json_of_values_and_odd_strings() -> None:
    user = EventUser(user_id=2**63 - 1, unique_id='quote " back \\ é 😀', nickname="\x00\n")
    assert user.to_json() == compact(user.to_dict())
    gift = GiftInfo(id=0, name="", combo=True)
    assert gift.to_json() == compact(gift.to_dict())
    failed = DecodeErrorEvent(method="X", error="bad", payload=b"\x00\xff")
    assert failed.to_json() == compact(failed.to_dict())
