"""Real TikTok messages (shared/fixtures/webcast, anonymised): what a correct decoder finds.

Note: the fixtures README names the users of social-share and member-join-a `viewer_033` and
`viewer_035`; the bytes themselves (every display_id in those files) say `viewer_034` and
`viewer_036`. These tests follow the bytes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from allin.live.protocol import (
    ChatEvent,
    GiftEvent,
    GiftStreakTracker,
    ImDeleteEvent,
    JoinEvent,
    LiveEvent,
    ShareEvent,
    decode_message,
    encode_event,
)
from allin.live.protocol import webcast_pb2 as pb

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str, method: str) -> LiveEvent:
    return decode_message(method, (FIXTURES / f"{name}.pb").read_bytes())


def test_gift_rose() -> None:
    event = load("gift-rose", "WebcastGiftMessage")
    assert isinstance(event, GiftEvent)
    assert event.type == "gift"
    assert event.gift_id == 5655
    assert event.repeat_count == 1
    assert event.combo_count == 1
    assert event.group_id == 1692725773860
    assert event.repeat_end is False
    assert event.streakable and event.streaking
    assert event.gift is not None
    assert (event.gift.id, event.gift.name, event.gift.type, event.gift.diamond_count) == (
        5655,
        "Rose",
        1,
        1,
    )
    assert event.diamonds == 1
    assert event.user is not None and event.user.unique_id == "viewer_022"
    assert event.user.nickname == "Viewer 24"
    assert event.user.user_id == 7089760561591144871
    assert event.msg_id == 7270201542891817761
    assert event.room_id == 7270193599273683745
    assert event.create_time == 1692725773880


def test_gift_rose_common_block() -> None:
    raw = (FIXTURES / "gift-rose.pb").read_bytes()
    common = pb.WebcastGiftMessage.FromString(raw).common
    assert common.method == "WebcastGiftMessage"
    assert common.display_text.key == "webcast_aweme_gift_send_message"
    assert common.display_text.default_pattern == "{0:user} sent {1:gift} {2:string}"


def test_gift_rose_is_an_open_streak() -> None:
    event = load("gift-rose", "WebcastGiftMessage")
    assert isinstance(event, GiftEvent)
    tracker = GiftStreakTracker()
    assert tracker.feed(event) is None
    (streak,) = tracker.active
    assert streak.streaking and streak.repeat_count == 1 and streak.diamonds == 1


def test_chat_emotes_has_no_text() -> None:
    event = load("chat-emotes", "WebcastChatMessage")
    assert isinstance(event, ChatEvent)
    assert event.content == ""
    assert len(event.emotes) == 19
    assert all(e.emote_id and e.image_url.startswith("https://") for e in event.emotes)
    assert event.user is not None and event.user.nickname == "Viewer 10"
    assert event.to_dict()["content"] == ""


def test_social_share() -> None:
    event = load("social-share", "WebcastSocialMessage")
    assert isinstance(event, ShareEvent)
    assert event.type == "share"
    assert event.share_count == 25
    assert event.share_type == 1
    assert event.share_target == "-1"
    assert event.users_joined == 10
    assert event.user is not None and event.user.unique_id == "viewer_034"


@pytest.mark.parametrize(
    ("name", "member_count", "unique_id"),
    [("member-join-a", 774, "viewer_036"), ("member-join-b", 165, "viewer_003")],
)
def test_member_join(name: str, member_count: int, unique_id: str) -> None:
    event = load(name, "WebcastMemberMessage")
    assert isinstance(event, JoinEvent)
    assert event.type == "join"
    assert event.member_count == member_count
    assert event.action == 1
    assert event.user is not None and event.user.unique_id == unique_id


def test_im_delete() -> None:
    event = load("im-delete", "WebcastImDeleteMessage")
    assert isinstance(event, ImDeleteEvent)
    assert event.delete_msg_ids == ()
    assert event.delete_user_ids == (7223833453145474054,)
    assert event.room_id == 7269585091200895762


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("gift-rose", "WebcastGiftMessage"),
        ("chat-emotes", "WebcastChatMessage"),
        ("social-share", "WebcastSocialMessage"),
        ("member-join-a", "WebcastMemberMessage"),
        ("member-join-b", "WebcastMemberMessage"),
        ("im-delete", "WebcastImDeleteMessage"),
    ],
)
def test_real_messages_survive_our_encoder(name: str, method: str) -> None:
    event = load(name, method)
    assert event.raw == (FIXTURES / f"{name}.pb").read_bytes()
    assert decode_message(*encode_event(event)) == event
