"""The scenario engine is pure, seeded and realistic: rates, streaks, viewers, the end."""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import islice

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allin.live.protocol import (
    ControlEvent,
    GiftEvent,
    LikeEvent,
    RoomUserEvent,
    UnknownEvent,
    decode_message,
    encode_event,
)
from allin.simulator.live.scenario import DEFAULT_RATES, Scenario, TimedEvent, timeline


def take(seed: int | str, scenario: Scenario, n: int, **kwargs: int) -> list[TimedEvent]:
    return list(islice(timeline(seed, scenario, **kwargs), n))


def test_same_seed_same_stream_other_seed_other_stream() -> None:
    a, b = take(1, Scenario(), 400), take(1, Scenario(), 400)
    assert a == b
    assert [x.event.to_dict() for x in a] == [x.event.to_dict() for x in b]
    assert take(2, Scenario(), 400) != a


def test_room_and_start_time_are_stamped_on_events() -> None:
    events = take(3, Scenario(), 50, room_id=42, start_ms=1_000_000)
    assert {x.event.room_id for x in events} == {42}
    assert all(x.event.create_time == 1_000_000 + x.offset_ms for x in events)


@given(seed=st.integers(0, 10**6), rate=st.floats(0.5, 50), n=st.integers(1, 300))
@settings(max_examples=40, deadline=None)
def test_time_order_and_unique_increasing_msg_ids(seed: int, rate: float, n: int) -> None:
    scenario = Scenario(rates={k: rate * v for k, v in DEFAULT_RATES.items()})
    events = take(seed, scenario, n)
    offsets = [x.offset_ms for x in events]
    ids = [x.event.msg_id for x in events]
    assert offsets == sorted(offsets)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(0 < i < 2**63 for i in ids)


def test_rates_are_respected_over_a_long_run() -> None:
    rates = {"chat": 4.0, "like": 1.0, "gift": 0.0, "join": 0.0, "unknown": 0.5}
    events = [x for x in timeline(9, Scenario(rates=rates, duration=600)) if x.offset_ms < 600_000]
    counts = Counter(x.event.type for x in events)
    assert counts["chat"] == pytest.approx(2400, rel=0.1)
    assert counts["like"] == pytest.approx(600, rel=0.15)
    assert counts["unknown"] == pytest.approx(300, rel=0.2)
    assert counts["gift"] == counts["join"] == 0


def test_every_event_round_trips_through_the_wire_format() -> None:
    for item in take(4, Scenario(), 500):
        assert decode_message(*encode_event(item.event)) == item.event


def test_unknown_types_carry_a_readable_common_header() -> None:
    unknown = [x.event for x in take(5, Scenario(rates={"unknown": 5}), 30)]
    unknown = [e for e in unknown if isinstance(e, UnknownEvent)]
    assert unknown
    for event in unknown:
        decoded = decode_message(event.method, event.payload)
        assert isinstance(decoded, UnknownEvent)
        assert decoded.msg_id == event.msg_id and decoded.room_id == event.room_id


@given(seed=st.integers(0, 10**6))
@settings(max_examples=15, deadline=None)
def test_streaks_are_shaped_like_tiktoks(seed: int) -> None:
    scenario = Scenario(rates={"gift": 5.0}, duration=30, viewer_interval=0)
    gifts = [x.event for x in timeline(seed, scenario) if isinstance(x.event, GiftEvent)]
    by_group: dict[int, list[GiftEvent]] = defaultdict(list)
    for gift in gifts:
        by_group[gift.group_id].append(gift)
    for group_id, messages in by_group.items():
        if group_id == 0:  # not streakable: one message each, never an end marker
            assert all(
                not g.streakable and g.repeat_count == 1 and not g.repeat_end for g in messages
            )
            continue
        assert all(g.streakable for g in messages)
        assert len({(g.user, g.gift_id) for g in messages}) == 1
        *repeats, final = messages
        if not final.repeat_end:  # the stream ended mid-streak
            assert [g.repeat_count for g in messages] == list(range(1, len(messages) + 1))
            continue
        # 1..n while streaking, then the final message repeats n with repeat_end (a single
        # tap therefore arrives twice).
        n = final.repeat_count
        assert [(g.repeat_count, g.repeat_end) for g in repeats] == [
            (i, False) for i in range(1, n + 1)
        ]


def test_viewer_curve() -> None:
    scenario = Scenario(
        rates={"chat": 1.0}, viewers_start=10, viewers_peak=1000, viewers_ramp=60, duration=600
    )
    seqs = [x for x in timeline(6, scenario) if isinstance(x.event, RoomUserEvent)]
    assert [x.offset_ms for x in seqs[:4]] == [0, 2000, 4000, 6000]
    viewers = [x.event.viewer_count for x in seqs]
    totals = [x.event.total_viewers for x in seqs]
    assert viewers[0] < 20 and 850 <= max(viewers[-20:]) <= 1150  # ramps up to the peak
    assert totals == sorted(totals) and totals[-1] >= max(viewers)  # cumulative only grows


def test_top_viewers_are_the_biggest_gifters() -> None:
    events = [x.event for x in timeline(8, Scenario(rates={"gift": 3.0}, duration=60))]
    last = [e for e in events if isinstance(e, RoomUserEvent)][-1]
    spent: Counter[int] = Counter()
    for gift in (e for e in events if isinstance(e, GiftEvent) and e.user is not None):
        if gift.repeat_end or not gift.streakable:
            spent[gift.user.user_id] += gift.diamonds  # type: ignore[union-attr]
    assert [v.rank for v in last.top_viewers] == [1, 2, 3]
    assert [v.coins for v in last.top_viewers] == sorted(
        (v.coins for v in last.top_viewers), reverse=True
    )
    assert last.top_viewers[0].user is not None
    assert last.top_viewers[0].coins >= max(spent.values()) * 0.5


def test_finite_stream_ends_with_stream_ended() -> None:
    events = list(timeline(7, Scenario(duration=10)))
    end = events[-1]
    assert isinstance(end.event, ControlEvent) and end.event.action == "ended"
    assert end.offset_ms == 10_000
    assert sum(isinstance(x.event, ControlEvent) for x in events) == 1
    suspended = list(timeline(7, Scenario(duration=1, end_code=4)))[-1].event
    assert isinstance(suspended, ControlEvent) and suspended.reason == "suspended"


def test_likes_total_is_monotonic() -> None:
    likes = [
        x.event
        for x in take(10, Scenario(rates={"like": 5}), 200)
        if isinstance(x.event, LikeEvent)
    ]
    running = 0
    for like in likes:
        running += like.count
        assert like.total == running


def test_silent_scenario_ends_instead_of_spinning() -> None:
    assert list(timeline(1, Scenario(rates={}, viewer_interval=0))) == []


@pytest.mark.parametrize(
    "kwargs",
    [{"rates": {"dance": 1.0}}, {"rates": {"chat": -1.0}}, {"audience": 0}, {"streak_mean": 0.5}],
)
def test_invalid_scenarios(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Scenario(**kwargs)  # type: ignore[arg-type]
