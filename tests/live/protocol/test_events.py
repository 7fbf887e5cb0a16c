"""Event semantics: classification, derived fields, JSON rendering, the gift catalogue."""

from __future__ import annotations

import json

import pytest

from allin.live.protocol import (
    EVENT_TYPES,
    ChatEvent,
    ControlCode,
    ControlEvent,
    EventUser,
    FollowEvent,
    GiftEvent,
    GiftInfo,
    RoomPinEvent,
    ShareEvent,
    UnknownEvent,
    decode_message,
    encode_event,
    gift_catalog,
)
from allin.live.protocol import webcast_pb2 as pb


def social(key: str, action: int) -> bytes:
    common = pb.CommonMessageData(msg_id=5)
    common.display_text.key = key
    return pb.WebcastSocialMessage(
        common=common, action=action, share_count=2, follow_count=9
    ).SerializeToString()


def test_type_strings_are_stable() -> None:
    assert [cls.type for cls in EVENT_TYPES] == [
        "chat",
        "gift",
        "like",
        "join",
        "follow",
        "share",
        "room_user",
        "control",
        "subscribe",
        "question",
        "emote_chat",
        "envelope",
        "battle",
        "poll",
        "goal",
        "room_pin",
        "caption",
        "im_delete",
        "unknown",
        "decode_error",
    ]


@pytest.mark.parametrize(
    ("key", "action", "expected"),
    [
        ("pm_main_follow_message_viewer_2", 0, FollowEvent),
        ("pm_mt_guidance_share", 0, ShareEvent),
        ("pm_mt_guidance_viewer_10_share", 1, ShareEvent),  # the key wins over action
        ("", 1, FollowEvent),
        ("", 3, ShareEvent),
        ("", 2, UnknownEvent),
    ],
)
def test_social_messages_split_into_follow_and_share(key: str, action: int, expected: type) -> None:
    event = decode_message("WebcastSocialMessage", social(key, action))
    assert type(event) is expected
    assert event.msg_id == 5
    if isinstance(event, FollowEvent):
        assert event.follow_count == 9
    if isinstance(event, ShareEvent):
        assert event.share_count == 2
    if isinstance(event, UnknownEvent):  # kept whole, not dropped
        assert event.payload == social(key, action)


@pytest.mark.parametrize(
    ("code", "action", "reason"),
    [
        (ControlCode.PAUSED, "paused", ""),
        (ControlCode.RESUMED, "resumed", ""),
        (ControlCode.ENDED, "ended", "ended_by_host"),
        (ControlCode.SUSPENDED, "ended", "suspended"),
        (9, "unknown", ""),
    ],
)
def test_control_actions(code: int, action: str, reason: str) -> None:
    payload = pb.WebcastControlMessage(action=code, tips="bye").SerializeToString()
    event = decode_message("WebcastControlMessage", payload)
    assert isinstance(event, ControlEvent)
    assert (event.action, event.reason, event.tips) == (action, reason, "bye")
    assert event.to_dict()["action"] == action


def test_gift_value_properties() -> None:
    lion = GiftEvent(gift=GiftInfo(id=6369, diamond_count=29999, type=2), repeat_count=1)
    assert not lion.streakable and not lion.streaking and lion.diamonds == 29999
    roses = GiftEvent(gift=GiftInfo(id=5655, diamond_count=1, type=1), repeat_count=7)
    assert roses.streaking and roses.diamonds == 7
    assert not GiftEvent(repeat_count=3).streakable  # no gift struct: value unknown
    assert GiftEvent(repeat_count=3).diamonds == 0


def test_to_dict_is_json_safe_with_string_ids() -> None:
    user = EventUser(user_id=7089760561591144871, unique_id="viewer_022", nickname="V")
    event = GiftEvent(
        msg_id=2**62,
        room_id=3,
        user=user,
        group_id=1692725773860,
        gift=GiftInfo(id=5655, name="Rose", diamond_count=1, type=1),
        repeat_count=2,
        raw=b"\x00\xff",
    )
    data = event.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["type"] == "gift" and "raw" not in data
    assert (data["msg_id"], data["room_id"], data["group_id"]) == (str(2**62), "3", "1692725773860")
    assert data["user"]["user_id"] == "7089760561591144871"
    assert (data["streaking"], data["diamonds"], data["gift"]["streakable"]) == (True, 2, True)
    unknown = UnknownEvent(method="X", payload=b"\x00\xff").to_dict()
    assert unknown["payload"] == "AP8=" and unknown["type"] == "unknown"


def test_events_are_frozen_and_raw_is_not_compared() -> None:
    event = ChatEvent(content="a", raw=b"1")
    with pytest.raises(AttributeError):
        event.content = "b"  # type: ignore[misc]
    assert event == ChatEvent(content="a", raw=b"2")
    assert "raw" not in repr(event)


def test_room_pin_decodes_the_pinned_chat() -> None:
    chat = ChatEvent(msg_id=1, content="pinned!", user=EventUser(user_id=4, unique_id="u"))
    _, chat_bytes = encode_event(chat)
    payload = pb.WebcastRoomPinMessage(
        chat_message=chat_bytes, original_msg_type="WebcastChatMessage", pin_time=123
    ).SerializeToString()
    event = decode_message("WebcastRoomPinMessage", payload)
    assert isinstance(event, RoomPinEvent)
    assert event.pinned == chat and event.pin_time == 123
    assert event.to_dict()["pinned"]["content"] == "pinned!"


def test_gift_catalogue() -> None:
    catalog = gift_catalog()
    assert len(catalog) == 133
    rose = catalog[5655]
    assert (rose.name, rose.diamond_count, rose.type, rose.combo) == ("Rose", 1, 1, True)
    assert rose.streakable
    assert {g.type for g in catalog.values()} == {1, 2, 4}
    assert all(g.streakable == g.combo for g in catalog.values())
    catalog.clear()
    assert len(gift_catalog()) == 133  # callers get their own dict


def test_a_pin_inside_a_pin_is_not_decoded_recursively() -> None:
    inner = pb.WebcastRoomPinMessage(pin_time=1).SerializeToString()
    payload = pb.WebcastRoomPinMessage(
        chat_message=inner, original_msg_type="WebcastRoomPinMessage"
    ).SerializeToString()
    event = decode_message("WebcastRoomPinMessage", payload)
    assert isinstance(event, RoomPinEvent)
    assert isinstance(event.pinned, UnknownEvent) and event.pinned.payload == inner


def test_user_id_falls_back_to_id_str() -> None:
    user = pb.User(id_str="7089760561591144871", display_id="x")
    payload = pb.WebcastLikeMessage(user=user, count=1).SerializeToString()
    event = decode_message("WebcastLikeMessage", payload)
    assert event.user is not None and event.user.user_id == 7089760561591144871
