"""Rooms of the simulated TikTok: who streams, what their timeline has produced so far, and the
opaque cursors TikTok hands out to resume from."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Iterator
from enum import StrEnum

from allin.live.protocol import ControlEvent, LiveEvent, RoomUserEvent
from allin.simulator.live.scenario import Scenario, TimedEvent, timeline

ROOM_ID_BASE = 7_400_000_000_000_000_000
STREAMER_ID_BASE = 6_900_000_000_000_000_000
_CURSOR_INDEX = re.compile(r"(?:^|_)r-(\d{1,12})(?:_|$)")


class RoomStatus(StrEnum):
    LIVE = "live"
    OFFLINE = "offline"
    AGE_RESTRICTED = "age_restricted"


def stable_id(base: int, text: str) -> int:
    """A 19-digit id that is always the same for `text` (room and user ids per username)."""
    digest = hashlib.sha256(text.encode()).digest()
    return base + int.from_bytes(digest[:8], "big") % 10**17


def encode_cursor(index: int, now_ms: int) -> str:
    return f"t-{now_ms}_r-{index}_d-1_u-1"


def decode_cursor(cursor: str) -> int | None:
    """The stream position in a cursor we issued, or None for anything else."""
    match = _CURSOR_INDEX.search(cursor)
    return int(match.group(1)) if match else None


def internal_ext(room_id: int, index: int, now_ms: int, first_ms: int) -> str:
    return (
        f"internal_src:dim|wss_push_room_id:{room_id}|wss_push_did:0|first_req_ms:{first_ms}"
        f"|fetch_time:{now_ms}|seq:{index}|wss_info:0-{now_ms}-0-0|wrds_v:{index}"
    )


class Room:
    """One streamer's room. The timeline is pure; the room only materialises it as time
    passes (and appends events injected on demand), so positions (cursors) are list indices."""

    def __init__(
        self,
        username: str,
        *,
        scenario: Scenario,
        seed: int | str,
        started_at_ms: int,
        status: RoomStatus = RoomStatus.LIVE,
        title: str = "",
    ) -> None:
        self.username = username
        self.room_id = stable_id(ROOM_ID_BASE, username)
        self.user_id = stable_id(STREAMER_ID_BASE, username)
        self.nickname = username.replace("_", " ").title()
        self.title = title or f"{self.nickname} is LIVE"
        self.status = status
        self.scenario = scenario
        self.seed = seed
        self.started_at_ms = started_at_ms
        self.events: list[TimedEvent] = []
        self.viewer_count = scenario.viewers_start
        self.total_viewers = scenario.viewers_start
        self.ended = False
        self._source: Iterator[TimedEvent] = timeline(
            seed, scenario, room_id=self.room_id, start_ms=started_at_ms
        )
        self._next: TimedEvent | None = next(self._source, None)
        self.changed = asyncio.Event()

    @property
    def is_live(self) -> bool:
        return self.status is not RoomStatus.OFFLINE and not self.ended

    def due(self, now_ms: int) -> int:
        """Materialises every event due by `now_ms`; returns how many events exist now."""
        offset = now_ms - self.started_at_ms
        while self._next is not None and self._next.offset_ms <= offset and not self.ended:
            self._append(self._next)
            self._next = next(self._source, None)
        return len(self.events)

    def next_due_ms(self) -> int | None:
        if self._next is None or self.ended:
            return None
        return self.started_at_ms + self._next.offset_ms

    def inject(self, event: LiveEvent, now_ms: int) -> None:
        """Appends an event now (a fault or a manual stream end), after everything due."""
        self.due(now_ms)
        self._append(TimedEvent(now_ms - self.started_at_ms, event))

    def _append(self, item: TimedEvent) -> None:
        self.events.append(item)
        event = item.event
        if isinstance(event, RoomUserEvent):
            self.viewer_count = event.viewer_count
            self.total_viewers = event.total_viewers
        elif isinstance(event, ControlEvent) and event.action == "ended":
            self.ended = True
        self.changed.set()
        self.changed = asyncio.Event()
