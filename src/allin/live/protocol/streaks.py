"""Gift streaks, counted once.

TikTok repeats a streakable (type 1) gift's message while the viewer keeps tapping: same
group_id, growing repeat_count, repeat_end=0, then one final message with repeat_end set and the
final count (a single Rose arrives twice). Non-streakable gifts arrive once. Summing every
GiftEvent therefore over-counts. `StreakCounter` is the one place a streak is counted: it
says how many gift items each message adds (the highest repeat_count seen per streak, so
duplicates, out-of-order and late messages add nothing twice). `GiftStreakTracker` builds on it
to turn the stream into exactly one finished GiftStreak per streak.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import ClassVar

from allin.live.protocol.events import GiftEvent
from allin.live.protocol.models import EventUser, GiftInfo, Record

StreakKey = tuple[int, int, int]  # (group_id, user_id, gift_id)


@dataclass(frozen=True, slots=True)
class GiftStreak(Record):
    """A streak so far (`streaking`) or finished; `diamonds` = diamond_count * repeat_count."""

    group_id: int
    gift_id: int
    gift: GiftInfo | None
    user: EventUser | None
    repeat_count: int
    streaking: bool
    started_at: int
    updated_at: int

    _JSON_EXTRA: ClassVar[tuple[str, ...]] = ("diamond_count", "diamonds")

    @property
    def diamond_count(self) -> int:
        return self.gift.diamond_count if self.gift is not None else 0

    @property
    def diamonds(self) -> int:
        return self.diamond_count * self.repeat_count


def streak_key(event: GiftEvent) -> StreakKey:
    user_id = event.user.user_id if event.user is not None else 0
    return (event.group_id, user_id, event.gift_id)


class StreakCounter:
    """How many gift items each gift message adds: a non-streakable gift its repeat_count (at
    least 1), a streak message what its repeat_count adds over the highest one counted for
    that streak. Remembers the `memory` most recently advanced streaks, so a long capture
    holds a bounded number of keys."""

    def __init__(self, *, memory: int = 10_000) -> None:
        self._memory = memory
        self._counted: OrderedDict[StreakKey, int] = OrderedDict()

    def counted(self, key: StreakKey) -> int:
        """The highest repeat_count counted for this streak (0 if none is remembered)."""
        return self._counted.get(key, 0)

    def add(self, event: GiftEvent) -> int:
        if not event.streakable:
            return max(event.repeat_count, 1)
        key = streak_key(event)
        counted = self._counted.get(key, 0)
        if event.repeat_count <= counted:
            return 0
        self._counted[key] = event.repeat_count
        self._counted.move_to_end(key)
        if len(self._counted) > self._memory:
            self._counted.popitem(last=False)
        return event.repeat_count - counted


def _streak(event: GiftEvent, streaking: bool) -> GiftStreak:
    return GiftStreak(
        group_id=event.group_id,
        gift_id=event.gift_id,
        gift=event.gift,
        user=event.user,
        repeat_count=event.repeat_count,
        streaking=streaking,
        started_at=event.create_time,
        updated_at=event.create_time,
    )


class _BoundedSet:
    """Remembers the most recent `size` items (msg ids, finished streak keys)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[object, None] = OrderedDict()

    def __contains__(self, item: object) -> bool:
        return item in self._items

    def add(self, item: object) -> None:
        self._items[item] = None
        if len(self._items) > self._size:
            self._items.popitem(last=False)


class GiftStreakTracker:
    """Feed every GiftEvent to `feed()`; it returns a finished GiftStreak exactly once per
    streak (immediately for non-streakable gifts) and None otherwise. `active` shows the streaks
    still running. Pure and synchronous; one tracker per room."""

    def __init__(self, *, memory: int = 10_000) -> None:
        self._open: dict[StreakKey, GiftStreak] = {}
        self._counter = StreakCounter(memory=memory)
        self._finished = _BoundedSet(memory)
        self._seen_msg_ids = _BoundedSet(memory)

    @property
    def active(self) -> tuple[GiftStreak, ...]:
        return tuple(self._open.values())

    def get(self, event: GiftEvent) -> GiftStreak | None:
        """The running streak this event belongs to, if any."""
        return self._open.get(streak_key(event))

    def feed(self, event: GiftEvent) -> GiftStreak | None:
        if event.msg_id:
            if event.msg_id in self._seen_msg_ids:
                return None  # the same message delivered twice
            self._seen_msg_ids.add(event.msg_id)
        if not event.streakable:
            return _streak(event, streaking=False)
        key = streak_key(event)
        if key in self._finished:
            return None  # a late or repeated message of a streak already counted
        self._counter.add(event)
        repeat_count = max(self._counter.counted(key), event.repeat_count)
        current = self._open.get(key)
        if current is None:
            current = replace(_streak(event, streaking=True), repeat_count=repeat_count)
        elif repeat_count > current.repeat_count or event.create_time > current.updated_at:
            current = replace(
                current,
                repeat_count=max(current.repeat_count, repeat_count),
                updated_at=max(current.updated_at, event.create_time),
            )
        if not event.repeat_end:
            self._open[key] = current
            return None
        return self._finish(key, current)

    def flush(self) -> tuple[GiftStreak, ...]:
        """Finishes every open streak (e.g. on disconnect, when no end message will come)."""
        return tuple(self._finish(key, s) for key, s in list(self._open.items()))

    def expire(self, before: int) -> tuple[GiftStreak, ...]:
        """Finishes open streaks whose last message is older than `before` (ms timestamp)."""
        stale = [(k, s) for k, s in self._open.items() if s.updated_at < before]
        return tuple(self._finish(key, s) for key, s in stale)

    def _finish(self, key: StreakKey, streak: GiftStreak) -> GiftStreak:
        self._open.pop(key, None)
        self._finished.add(key)
        return replace(streak, streaking=False)
