"""The scenario engine: (seed, scenario) -> the room's timeline of webcast events. Pure.

Events of each type arrive as independent Poisson processes at the scenario's rates; a
streakable (type 1) gift opens a streak that repeats with growing repeat_count and closes with
repeat_end; viewer counts follow a ramp towards a peak with noise and come as room_user events
at a fixed interval; a finite scenario ends with a stream-ended ControlEvent. The same seed,
scenario, room id and start time always give the same events, msg ids included.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypedDict

from allin.live.protocol import (
    ChatEvent,
    ControlCode,
    ControlEvent,
    Emote,
    EmoteChatEvent,
    EnvelopeEvent,
    EventUser,
    FollowEvent,
    GiftEvent,
    GiftInfo,
    JoinEvent,
    LikeEvent,
    LiveEvent,
    QuestionEvent,
    RoomUserEvent,
    ShareEvent,
    SubscribeEvent,
    TopViewer,
    UnknownEvent,
)
from allin.live.protocol import webcast_pb2 as pb
from allin.simulator.live import content

DEFAULT_START_MS = 1_700_000_000_000
DEFAULT_RATES: Mapping[str, float] = MappingProxyType(
    {
        "chat": 2.0,
        "like": 2.5,
        "join": 1.0,
        "gift": 0.5,
        "follow": 0.1,
        "share": 0.05,
        "subscribe": 0.02,
        "question": 0.03,
        "emote_chat": 0.05,
        "envelope": 0.01,
        "unknown": 0.03,
    }
)
MSG_ID_BASE = 7_300_000_000_000_000_000
_MSG_ID_STRIDE = 10_007


@dataclass(frozen=True, slots=True)
class Scenario:
    """What a room's stream is like. Rates are events per second per event type (keys of
    DEFAULT_RATES); `duration` (s) ends the stream, None streams forever."""

    rates: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RATES))
    duration: float | None = None
    start_delay: float = 0.0
    viewers_start: int = 20
    viewers_peak: int = 300
    viewers_ramp: float = 120.0
    viewer_interval: float = 2.0
    streak_mean: float = 4.0
    streak_gap: float = 0.25
    audience: int = 200
    end_code: int = ControlCode.ENDED

    def __post_init__(self) -> None:
        unknown = set(self.rates) - set(DEFAULT_RATES)
        if unknown:
            raise ValueError(f"unknown event types in rates: {sorted(unknown)}")
        if any(r < 0 for r in self.rates.values()):
            raise ValueError("rates must be >= 0")
        if self.audience < 1 or self.streak_mean < 1:
            raise ValueError("audience and streak_mean must be >= 1")


@dataclass(frozen=True, slots=True)
class TimedEvent:
    """One event and when it happens, in ms after the stream started."""

    offset_ms: int
    event: LiveEvent


def timeline(
    seed: int | str,
    scenario: Scenario,
    *,
    room_id: int = 7_400_000_000_000_000_000,
    start_ms: int = DEFAULT_START_MS,
) -> Iterator[TimedEvent]:
    """The room's events in time order (endless when scenario.duration is None)."""
    return _Engine(seed, scenario, room_id, start_ms).run()


Factory = Callable[[int], LiveEvent]  # msg_id -> event


class _Envelope(TypedDict):
    msg_id: int
    room_id: int
    create_time: int


class _Engine:
    def __init__(self, seed: int | str, scenario: Scenario, room_id: int, start_ms: int) -> None:
        self.rng = random.Random(f"allin-sim:{seed}")  # noqa: S311 - simulation, not security
        self.s = scenario
        self.room_id = room_id
        self.start_ms = start_ms
        self.users = content.audience(self.rng, scenario.audience)
        self.viewers = max(1, scenario.viewers_start)
        self.total_viewers = self.viewers
        self.noise = 0.0
        self.like_total = 0
        self.follows = 0
        self.streaks = 0
        self.coins: dict[int, int] = {}
        self._pending: list[tuple[int, int, Factory]] = []
        self._seq = itertools.count()
        self._makers: dict[str, Callable[[int], None]] = {
            "chat": self._chat,
            "like": self._like,
            "join": self._join,
            "gift": self._gift,
            "follow": self._follow,
            "share": self._share,
            "subscribe": self._subscribe,
            "question": self._question,
            "emote_chat": self._emote_chat,
            "envelope": self._envelope,
            "unknown": self._unknown,
        }
        self.types = [t for t, r in sorted(scenario.rates.items()) if r > 0]
        self.weights = [scenario.rates[t] for t in self.types]
        self.total_rate = sum(self.weights)

    # -- driver ----------------------------------------------------------------------------

    def run(self) -> Iterator[TimedEvent]:
        end_ms = None if self.s.duration is None else round(self.s.duration * 1000)
        start = round(self.s.start_delay * 1000)
        next_random = start + self._gap_ms()
        if self.s.viewer_interval > 0:
            self._schedule(start, self._room_user_tick(start))
        for index in itertools.count():
            due_pending = self._pending[0][0] if self._pending else math.inf
            at = min(next_random, due_pending)
            if end_ms is not None and at > end_ms:
                yield self._event(end_ms, index, self._control)
                return
            if at == math.inf:
                return  # nothing will ever happen (all rates zero, no viewer updates)
            if due_pending <= next_random:
                _, _, factory = heapq.heappop(self._pending)
                yield self._event(int(due_pending), index, factory)
            else:
                kind = self.rng.choices(self.types, self.weights)[0]
                self._makers[kind](int(next_random))
                next_random += self._gap_ms()

    def _gap_ms(self) -> float:
        if self.total_rate <= 0:
            return math.inf
        return max(1.0, round(self.rng.expovariate(self.total_rate) * 1000))

    def _schedule(self, at_ms: int, factory: Factory) -> None:
        heapq.heappush(self._pending, (at_ms, next(self._seq), factory))

    def _event(self, at_ms: int, index: int, factory: Factory) -> TimedEvent:
        msg_id = MSG_ID_BASE + index * _MSG_ID_STRIDE + self.rng.randrange(_MSG_ID_STRIDE)
        return TimedEvent(at_ms, factory(msg_id))

    def _envelope_of(self, msg_id: int, at_ms: int) -> _Envelope:
        return {"msg_id": msg_id, "room_id": self.room_id, "create_time": self.start_ms + at_ms}

    def _someone(self) -> EventUser:
        return self.rng.choice(self.users)

    # -- event makers: each schedules one or more events at `at` ----------------------------

    def _chat(self, at: int) -> None:
        user, text = self._someone(), content.chat_line(self.rng)
        self._schedule(at, lambda m: ChatEvent(**self._envelope_of(m, at), user=user, content=text))

    def _like(self, at: int) -> None:
        user, count = self._someone(), self.rng.randint(1, 15)
        self.like_total += count
        total = self.like_total
        self._schedule(
            at,
            lambda m: LikeEvent(**self._envelope_of(m, at), user=user, count=count, total=total),
        )

    def _join(self, at: int) -> None:
        user, members = self._someone(), self.viewers
        self._schedule(
            at,
            lambda m: JoinEvent(
                **self._envelope_of(m, at), user=user, member_count=members, action=1
            ),
        )

    def _follow(self, at: int) -> None:
        self.follows += 1
        user, follows = self._someone(), self.follows
        self._schedule(
            at,
            lambda m: FollowEvent(**self._envelope_of(m, at), user=user, follow_count=follows),
        )

    def _share(self, at: int) -> None:
        user = self._someone()
        joined = self.rng.choice((None, 5, 10, 20))
        self._schedule(
            at,
            lambda m: ShareEvent(
                **self._envelope_of(m, at),
                user=user,
                share_type=1,
                share_target="-1",
                share_count=1,
                users_joined=joined,
            ),
        )

    def _subscribe(self, at: int) -> None:
        user, months = self._someone(), self.rng.randint(1, 12)
        self._schedule(
            at,
            lambda m: SubscribeEvent(**self._envelope_of(m, at), user=user, sub_month=months),
        )

    def _question(self, at: int) -> None:
        user, text = self._someone(), content.question(self.rng)
        qid = 7_200_000_000_000_000_000 + self.rng.randrange(10**15)
        self._schedule(
            at,
            lambda m: QuestionEvent(
                **self._envelope_of(m, at), user=user, question_id=qid, content=text
            ),
        )

    def _emote_chat(self, at: int) -> None:
        user = self._someone()
        emote = Emote(emote_id=str(7_100_000_000_000_000_000 + self.rng.randrange(10**6)))
        self._schedule(
            at, lambda m: EmoteChatEvent(**self._envelope_of(m, at), user=user, emotes=(emote,))
        )

    def _envelope(self, at: int) -> None:
        user = self._someone()
        box_id = str(7_500_000_000_000_000_000 + self.rng.randrange(10**15))
        kind = self.rng.choice((1, 19))
        diamonds = self.rng.choice((100, 500, 1000))
        people = self.rng.choice((5, 10, 20))
        self._schedule(
            at,
            lambda m: EnvelopeEvent(
                **self._envelope_of(m, at),
                envelope_id=box_id,
                business_type=kind,
                sender_user_id=str(user.user_id),
                sender_name=user.nickname,
                diamond_count=diamonds,
                people_count=people,
                unpack_at=(self.start_ms + at) // 1000 + 60,
            ),
        )

    def _unknown(self, at: int) -> None:
        method = self.rng.choice(content.UNKNOWN_METHODS)
        extra = content.chat_line(self.rng).encode()

        def make(m: int) -> LiveEvent:
            common = pb.CommonMessageData(
                method=method, msg_id=m, room_id=self.room_id, create_time=self.start_ms + at
            )
            body = pb.CommonOnly(common=common).SerializeToString()
            # A field we never model, as TikTok's newer message types carry.
            body += b"\x12" + _varint(len(extra)) + extra
            return UnknownEvent(method=method, **self._envelope_of(m, at), payload=body, raw=body)

        self._schedule(at, make)

    def _gift(self, at: int) -> None:
        user, gift = self._someone(), content.pick_gift(self.rng)
        self.coins[user.user_id] = self.coins.get(user.user_id, 0)
        if not gift.streakable:
            self.coins[user.user_id] += gift.diamond_count
            self._schedule(at, self._gift_maker(at, user, gift, 1, 0, end=False))
            return
        # A streak: repeat_count 1..n with repeat_end=0, then a final message with the count.
        self.streaks += 1
        group_id = self.start_ms + at + self.streaks
        repeats = self._streak_length()
        self.coins[user.user_id] += gift.diamond_count * repeats
        t = at
        for count in range(1, repeats + 1):
            self._schedule(t, self._gift_maker(t, user, gift, count, group_id, end=False))
            t += round(self.s.streak_gap * 1000 * self.rng.uniform(0.5, 1.5))
        self._schedule(t, self._gift_maker(t, user, gift, repeats, group_id, end=True))

    def _streak_length(self) -> int:
        """1 + an exponential tail, so the mean is streak_mean; capped like TikTok's x999."""
        extra = self.s.streak_mean - 1
        return 1 + (min(998, int(self.rng.expovariate(1 / extra))) if extra > 0 else 0)

    def _gift_maker(
        self, at: int, user: EventUser, gift: GiftInfo, count: int, group_id: int, *, end: bool
    ) -> Factory:
        return lambda m: GiftEvent(
            **self._envelope_of(m, at),
            user=user,
            gift_id=gift.id,
            gift=gift,
            repeat_count=count,
            combo_count=count,
            group_count=1,
            group_id=group_id,
            repeat_end=end,
        )

    def _room_user_tick(self, at: int) -> Factory:
        """The viewer update due at `at`; producing it schedules the next one."""

        def make(m: int) -> LiveEvent:
            self._move_viewers(at)
            self._schedule(
                at + round(self.s.viewer_interval * 1000),
                self._room_user_tick(at + round(self.s.viewer_interval * 1000)),
            )
            ranked = sorted(self.coins.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
            by_id = {u.user_id: u for u in self.users}
            top = tuple(
                TopViewer(user=by_id[uid], coins=coins, rank=n)
                for n, (uid, coins) in enumerate(ranked, start=1)
                if coins > 0
            )
            return RoomUserEvent(
                **self._envelope_of(m, at),
                viewer_count=self.viewers,
                total_viewers=self.total_viewers,
                top_viewers=top,
            )

        return make

    def _move_viewers(self, at: int) -> None:
        """Ramp towards the peak, with a wandering +-15 % noise; the total only grows."""
        s = self.s
        ramp = 1 - math.exp(-at / 1000 / s.viewers_ramp) if s.viewers_ramp > 0 else 1.0
        target = s.viewers_start + (s.viewers_peak - s.viewers_start) * ramp
        self.noise = min(0.15, max(-0.15, self.noise + self.rng.gauss(0, 0.03)))
        before = self.viewers
        self.viewers = max(1, round(target * (1 + self.noise)))
        self.total_viewers += max(0, self.viewers - before) + round(before * 0.02)

    def _control(self, msg_id: int) -> LiveEvent:
        end_ms = round((self.s.duration or 0) * 1000)
        return ControlEvent(**self._envelope_of(msg_id, end_ms), code=int(self.s.end_code))


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        bits, n = n & 0x7F, n >> 7
        out.append(bits | (0x80 if n else 0))
        if not n:
            return bytes(out)
