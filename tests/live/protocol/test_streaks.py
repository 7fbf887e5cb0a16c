"""Gift streaks are counted exactly once, whatever order or duplication TikTok delivers."""

from __future__ import annotations

import itertools
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from allin.live.protocol import EventUser, GiftEvent, GiftInfo, GiftStreakTracker

ROSE = GiftInfo(id=5655, name="Rose", diamond_count=1, type=1, combo=True)
LION = GiftInfo(id=6369, name="Lion", diamond_count=29999, type=2)
ALICE = EventUser(user_id=1, unique_id="alice")
BOB = EventUser(user_id=2, unique_id="bob")


def gift(
    msg_id: int,
    info: GiftInfo,
    count: int,
    *,
    end: bool = False,
    group: int = 100,
    user: EventUser = ALICE,
    at: int = 0,
) -> GiftEvent:
    return GiftEvent(
        msg_id=msg_id,
        gift_id=info.id,
        gift=info,
        repeat_count=count,
        repeat_end=end,
        group_id=group,
        user=user,
        create_time=at,
    )


def test_streak_finishes_once_with_final_count() -> None:
    tracker = GiftStreakTracker()
    assert tracker.feed(gift(1, ROSE, 1, at=10)) is None
    assert tracker.feed(gift(2, ROSE, 2, at=20)) is None
    (running,) = tracker.active
    assert running.streaking and running.repeat_count == 2 and running.diamonds == 2
    done = tracker.feed(gift(3, ROSE, 5, end=True, at=30))
    assert done is not None
    assert (done.streaking, done.repeat_count, done.diamonds) == (False, 5, 5)
    assert (done.started_at, done.updated_at, done.user) == (10, 30, ALICE)
    assert tracker.active == ()
    assert tracker.feed(gift(4, ROSE, 5, end=True)) is None  # TikTok repeating the end


def test_single_rose_arrives_twice_but_counts_once() -> None:
    tracker = GiftStreakTracker()
    assert tracker.feed(gift(1, ROSE, 1)) is None
    done = tracker.feed(gift(2, ROSE, 1, end=True))
    assert done is not None and done.diamonds == 1


def test_non_streakable_gift_counts_immediately() -> None:
    tracker = GiftStreakTracker()
    first = tracker.feed(gift(1, LION, 1, group=0))
    second = tracker.feed(gift(2, LION, 1, group=0))
    assert first is not None and second is not None
    assert first.diamonds == second.diamonds == 29999
    assert not first.streaking and tracker.active == ()


def test_duplicate_message_is_ignored() -> None:
    tracker = GiftStreakTracker()
    assert tracker.feed(gift(1, LION, 1)) is not None
    assert tracker.feed(gift(1, LION, 1)) is None


def test_late_messages_do_not_reopen_a_streak() -> None:
    tracker = GiftStreakTracker()
    done = tracker.feed(gift(3, ROSE, 3, end=True))
    assert done is not None and done.repeat_count == 3
    assert tracker.feed(gift(1, ROSE, 1)) is None
    assert tracker.active == ()


def test_one_user_two_parallel_streaks_and_two_users_same_group() -> None:
    tracker = GiftStreakTracker()
    tracker.feed(gift(1, ROSE, 1, group=100))
    tracker.feed(gift(2, ROSE, 1, group=200))
    tracker.feed(gift(3, ROSE, 1, group=100, user=BOB))
    assert len(tracker.active) == 3
    done = tracker.feed(gift(4, ROSE, 4, group=200, end=True))
    assert done is not None and done.group_id == 200 and done.repeat_count == 4
    assert len(tracker.active) == 2


def test_flush_and_expire_finish_open_streaks() -> None:
    tracker = GiftStreakTracker()
    tracker.feed(gift(1, ROSE, 2, group=1, at=1_000))
    tracker.feed(gift(2, ROSE, 7, group=2, at=9_000))
    (old,) = tracker.expire(before=5_000)
    assert old.group_id == 1 and not old.streaking and old.diamonds == 2
    (rest,) = tracker.flush()
    assert rest.group_id == 2 and rest.diamonds == 7
    assert tracker.flush() == ()
    assert tracker.feed(gift(3, ROSE, 8, group=2, end=True)) is None  # already counted


def test_streak_to_dict() -> None:
    tracker = GiftStreakTracker()
    done = tracker.feed(gift(1, ROSE, 3, end=True, group=1692725773860))
    assert done is not None
    data = done.to_dict()
    assert data["group_id"] == "1692725773860" and data["diamonds"] == 3
    assert data["gift"]["name"] == "Rose" and data["user"]["unique_id"] == "alice"


streak_specs = st.lists(
    st.tuples(
        st.sampled_from([ROSE, LION, replace(ROSE, id=5760, diamond_count=5)]),
        st.integers(1, 6),  # final repeat_count
        st.sampled_from([ALICE, BOB]),
        st.booleans(),  # whether TikTok skipped some mid-streak messages
    ),
    max_size=8,
)


@settings(max_examples=200)
@given(specs=streak_specs, data=st.data())
def test_each_streak_counted_exactly_once(
    specs: list[tuple[GiftInfo, int, EventUser, bool]], data: st.DataObject
) -> None:
    msg_ids = itertools.count(1)
    events: list[GiftEvent] = []
    expected = 0
    for group, (info, final, user, skip_some) in enumerate(specs, start=1):
        expected += info.diamond_count * final
        if info.type != 1:
            events.append(gift(next(msg_ids), info, final, group=0, user=user))
            continue
        for count in range(1, final):
            if not (skip_some and count % 2):
                events.append(gift(next(msg_ids), info, count, group=group, user=user))
        events.append(gift(next(msg_ids), info, final, end=True, group=group, user=user))
    duplicates = data.draw(st.lists(st.sampled_from(events), max_size=5)) if events else []
    delivered = data.draw(st.permutations(events + duplicates))

    tracker = GiftStreakTracker()
    finished = [s for s in map(tracker.feed, delivered) if s is not None]

    assert sum(s.diamonds for s in finished) == expected
    assert len(finished) == len(specs)
    assert all(not s.streaking for s in finished)
    assert tracker.flush() == ()
