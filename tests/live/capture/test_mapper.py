"""Typed events -> stored records: columns, raw bytes, duplicates, gift streaks counted once."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from allin.live.capture import end_reason
from allin.live.protocol import GiftInfo
from allin.live.protocol.models import json_text
from allin.live.storage import EventMapper
from tests.live.capture.support import (
    BASE_MS,
    LION,
    ROSE,
    chat,
    gift,
    join,
    like,
    stream_end,
    viewer,
    viewers,
)


def test_chat_record_has_columns_raw_and_processed_data() -> None:
    event = chat(7, "hello there", at_ms=1500)
    record = EventMapper().record(event)
    assert record is not None
    assert record.type == "chat"
    assert record.message == "hello there"
    assert record.user_id == str(viewer(7).user_id)
    assert record.unique_id == "viewer_007" and record.nickname == "Viewer 7"
    assert record.created_at == datetime.fromtimestamp((BASE_MS + 1500) / 1000, UTC)
    assert record.raw == event.raw and record.raw
    data = record.processed()
    assert data["content"] == "hello there"
    assert data["msg_id"] == str(event.msg_id)  # 64-bit ids as strings
    assert record.processed_json() == json_text(data)


def test_raw_bytes_can_be_left_out() -> None:
    record = EventMapper(store_raw=False).record(chat(1, "x"))
    assert record is not None and record.raw is None


def test_repeated_message_is_dropped() -> None:
    mapper = EventMapper()
    event = chat(1, "once", msg_id=42)
    assert mapper.record(event) is not None
    assert mapper.record(event) is None


def test_like_and_viewer_counts() -> None:
    mapper = EventMapper()
    liked = mapper.record(like(3, 15))
    seen = mapper.record(viewers(321))
    joined = mapper.record(join(4))
    assert liked is not None and liked.like_count == 15
    assert seen is not None and seen.viewer_count == 321 and seen.user_id is None
    assert joined is not None and joined.type == "join" and joined.unique_id == "viewer_004"


def test_streak_counts_once_and_single_rose_arriving_twice_counts_one() -> None:
    mapper = EventMapper()
    records = [
        mapper.record(e)
        for e in (
            gift(1, repeat=1, group=10),
            gift(1, repeat=2, group=10),
            gift(1, repeat=5, group=10),
            gift(1, repeat=5, group=10, end=True),
            gift(2, repeat=1, group=11),
            gift(2, repeat=1, group=11, end=True),
        )
    ]
    assert [r.gift_count for r in records if r] == [1, 1, 3, 0, 1, 0]
    assert sum(r.diamonds for r in records if r) == 6 * ROSE.diamond_count
    assert records[0] is not None and records[0].gift_name == "Rose"


def test_non_streakable_gift_counts_at_once() -> None:
    record = EventMapper().record(gift(9, LION, group=0))
    assert record is not None
    assert record.gift_count == 1 and record.diamonds == LION.diamond_count


def test_two_open_streaks_of_one_user_are_separate() -> None:
    mapper = EventMapper()
    a = mapper.record(gift(1, repeat=3, group=1))
    b = mapper.record(gift(1, repeat=2, group=2))
    assert a is not None and b is not None
    assert a.diamonds + b.diamonds == 5


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 3), st.integers(1, 30), st.booleans()), min_size=1, max_size=25
    ),
    st.integers(1, 500),
)
def test_streak_total_is_the_highest_repeat_whatever_the_order(
    steps: list[tuple[int, int, bool]], diamond_count: int
) -> None:
    """Duplicated, reordered and late streak messages: each streak adds max(repeat) gifts."""
    info = GiftInfo(id=1, name="G", diamond_count=diamond_count, type=1)
    mapper = EventMapper()
    total = 0
    for group, repeat, end in steps:
        record = mapper.record(gift(1, info, repeat=repeat, end=end, group=group))
        assert record is not None
        assert record.gift_count >= 0
        total += record.diamonds
    best: dict[int, int] = {}
    for group, repeat, _ in steps:
        best[group] = max(best.get(group, 0), repeat)
    assert total == sum(best.values()) * diamond_count


def test_end_reason_of_control_events() -> None:
    assert end_reason(stream_end(3)) == "ended_by_host"
    assert end_reason(stream_end(4)) == "suspended"
    assert end_reason(stream_end(1)) is None  # paused
    assert end_reason(chat(1, "x")) is None
