"""The simulated TikTok LIVE as one object: rooms, push sessions, open sockets, faults."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from allin.core.clock import clock
from allin.live.protocol import ControlCode, ControlEvent, LiveEvent, UnknownEvent
from allin.live.protocol import webcast_pb2 as pb
from allin.simulator.live.faults import Faults
from allin.simulator.live.rooms import Room, RoomStatus
from allin.simulator.live.scenario import Scenario

if TYPE_CHECKING:
    from allin.simulator.live.push import PushConnection

DEMO_STREAMER = "demo_streamer"
OFFLINE_STREAMER = "offline_streamer"
AGE_RESTRICTED_STREAMER = "age_restricted_streamer"
INJECTED_MSG_ID_BASE = 7_350_000_000_000_000_000
LOG_ID_BASE = 7_600_000_000_000_000_000


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """Knobs of TikTok's side. Defaults are TikTok's observed values; tests shrink the times."""

    seed: int = 0
    demo_scenario: Scenario = field(default_factory=Scenario)
    heartbeat_interval: float = 10.0  # s: Handshake-Options ping-interval, fetch heartbeat
    heartbeat_timeout: float | None = None  # s without a client heartbeat; None = 3 intervals
    fetch_interval_ms: int = 1000
    need_ack: bool = True
    batch_window: float = 0.05  # s: events due within this window share one frame
    history: int = 3  # events before "now" in a first fetch
    max_batch: int = 100
    session_ttl: float = 30.0  # s a fetch's push session (route_params) stays valid
    close_grace: float = 1.0  # s the socket stays open after the stream ended
    replay_on_resume: int = 0  # fault: a resumed socket repeats this many delivered events
    ca_file: str | None = None  # our TLS certificate, for the built-in sign side

    @property
    def effective_heartbeat_timeout(self) -> float:
        return self.heartbeat_timeout or 3 * self.heartbeat_interval


@dataclass(frozen=True, slots=True)
class PushSession:
    """What a fetch promised: this ttwid + User-Agent may open the socket from `index`."""

    room_id: int
    index: int
    first_index: int  # where the fetch's own messages began
    ttwid: str
    user_agent: str
    expires_at: float


class Simulator:
    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        demo_rooms: bool = True,
        now_ms: Callable[[], int] | None = None,
    ) -> None:
        self.config = config or SimulatorConfig()
        self.faults = Faults()
        self.rooms: dict[str, Room] = {}
        self.sessions: dict[str, PushSession] = {}
        self.connections: list[PushConnection] = []  # every socket ever accepted, in order
        self.rejected_handshakes = 0
        self._now_ms = now_ms or (lambda: int(clock.now().timestamp() * 1000))
        self._injected = itertools.count(1)
        self._log_ids = itertools.count(1)
        if demo_rooms:
            self.add_room(DEMO_STREAMER, scenario=self.config.demo_scenario)
            self.add_room(OFFLINE_STREAMER, status=RoomStatus.OFFLINE)
            self.add_room(AGE_RESTRICTED_STREAMER, status=RoomStatus.AGE_RESTRICTED)

    # -- rooms -----------------------------------------------------------------------------

    def now_ms(self) -> int:
        return self._now_ms()

    def add_room(
        self,
        username: str,
        *,
        status: RoomStatus = RoomStatus.LIVE,
        scenario: Scenario | None = None,
        seed: int | str | None = None,
        title: str = "",
    ) -> Room:
        """Adds (or replaces) a streamer whose stream starts now."""
        room = Room(
            username,
            scenario=scenario or Scenario(),
            seed=self.config.seed if seed is None else seed,
            started_at_ms=self.now_ms(),
            status=status,
            title=title,
        )
        self.rooms[username] = room
        return room

    def room(self, username: str) -> Room | None:
        return self.rooms.get(username.lower())

    def room_by_id(self, room_id: int) -> Room | None:
        return next((r for r in self.rooms.values() if r.room_id == room_id), None)

    # -- push sessions ---------------------------------------------------------------------

    def issue_session(
        self, room: Room, index: int, ttwid: str, user_agent: str, *, first_index: int
    ) -> str:
        now = clock.monotonic()
        self.sessions = {k: s for k, s in self.sessions.items() if s.expires_at > now}
        token = secrets.token_urlsafe(24)
        self.sessions[token] = PushSession(
            room.room_id, index, first_index, ttwid, user_agent, now + self.config.session_ttl
        )
        return token

    def session(self, token: str) -> PushSession | None:
        found = self.sessions.get(token)
        if found is None or found.expires_at <= clock.monotonic():
            return None
        return found

    def next_log_id(self) -> int:
        return LOG_ID_BASE + next(self._log_ids) * 7919

    @property
    def open_connections(self) -> list[PushConnection]:
        return [c for c in self.connections if c.open]

    # -- faults and actions on demand ------------------------------------------------------

    def drop_sockets(self) -> int:
        """Cuts every open WebSocket without a close frame (as a lost network does)."""
        return self._each_open(lambda c: c.drop())

    def stall(self, seconds: float) -> int:
        """Open sockets go silent (no frames, no heartbeat replies) for `seconds`."""
        return self._each_open(lambda c: c.stall(seconds))

    def send_malformed(self) -> int:
        """Each open socket receives one frame of garbage bytes."""
        return self._each_open(lambda c: c.send_malformed())

    def inject(self, username: str, event: LiveEvent) -> LiveEvent:
        room = self._room_or_raise(username)
        room.inject(event, self.now_ms())
        return event

    def inject_unknown(self, username: str, method: str = "WebcastCompetitionMessage") -> LiveEvent:
        """A message type no client models, carrying a readable common header."""
        room = self._room_or_raise(username)
        now, msg_id = self.now_ms(), self._next_injected_id()
        common = pb.CommonMessageData(
            method=method, msg_id=msg_id, room_id=room.room_id, create_time=now
        )
        body = pb.CommonOnly(common=common).SerializeToString()
        event = UnknownEvent(
            method=method,
            msg_id=msg_id,
            room_id=room.room_id,
            create_time=now,
            payload=body,
            raw=body,
        )
        return self.inject(username, event)

    def end_stream(self, username: str, code: int = ControlCode.ENDED) -> LiveEvent:
        room = self._room_or_raise(username)
        event = ControlEvent(
            msg_id=self._next_injected_id(),
            room_id=room.room_id,
            create_time=self.now_ms(),
            code=int(code),
        )
        return self.inject(username, event)

    def _next_injected_id(self) -> int:
        return INJECTED_MSG_ID_BASE + next(self._injected)

    def _room_or_raise(self, username: str) -> Room:
        room = self.room(username)
        if room is None:
            raise KeyError(f"no room for {username!r}")
        return room

    def _each_open(self, action: Callable[[PushConnection], None]) -> int:
        connections = self.open_connections
        for connection in connections:
            action(connection)
        return len(connections)
