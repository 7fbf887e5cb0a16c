"""The LIVE connection as a pure state machine (sans-I/O): feed it what arrived (fetch results,
WebSocket frames, a lost socket), it says what to send and which events are new. The transport
in `client.py` only moves bytes and sleeps.

Across reconnects it keeps the cursor and internal_ext (so a new fetch resumes where the last
socket stopped) and a bounded LRU of msg ids (so an event delivered twice is emitted once).
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlencode

from allin.live.protocol import (
    ControlEvent,
    FetchResult,
    LiveEvent,
    RoomUserEvent,
    decode_frame_events,
    encode_enter_room,
    encode_heartbeat,
)
from allin.live.web import BrowserProfile

DEFAULT_HEARTBEAT_INTERVAL = 10.0
MIN_STALL_TIMEOUT = 30.0


class State(StrEnum):
    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    POLLING = "polling"
    RECONNECTING = "reconnecting"
    ENDED = "ended"
    CLOSED = "closed"


FINAL_STATES = frozenset({State.ENDED, State.CLOSED})


class InvalidTransition(RuntimeError):
    """An input that makes no sense in the current state (a bug in the transport)."""


@dataclass(frozen=True, slots=True)
class FrameOutcome:
    """What one incoming WebSocket frame means: new events, and the ack to send (if any)."""

    events: tuple[LiveEvent, ...]
    ack: bytes | None


class Backoff:
    """Exponential backoff with jitter: attempt n waits in [d/2, d], d = min(cap, base * 2**n)."""

    def __init__(self, base: float, cap: float, rng: random.Random) -> None:
        self.base = base
        self.cap = cap
        self.rng = rng
        self.attempt = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * 2.0 ** min(self.attempt, 60))
        self.attempt += 1
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        self.attempt = 0


class MsgIdWindow:
    """The most recent `size` msg ids; `add` says whether an id is new."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._ids: OrderedDict[int, None] = OrderedDict()

    def add(self, msg_id: int) -> bool:
        if msg_id in self._ids:
            self._ids.move_to_end(msg_id)
            return False
        self._ids[msg_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._ids)


class LiveConnection:
    """One room's session. Inputs: accept_fetch, opened, receive, lost, start_polling, close.
    Outputs: new events (deduplicated, in order), frames to send, the WebSocket URL."""

    def __init__(
        self,
        room_id: int,
        *,
        profile: BrowserProfile | None = None,
        dedup_size: int = 10_000,
        heartbeat_interval: float | None = None,
        stall_timeout: float | None = None,
    ) -> None:
        self.room_id = room_id
        self.profile = profile or BrowserProfile()
        self.state = State.IDLE
        self.cursor = ""
        self.internal_ext = ""
        self.push_server = ""
        self.route_params: dict[str, str] = {}
        self.fetch_interval_ms = 0
        self.heartbeat_ms = 0
        self.viewers: int | None = None
        self.end_reason: str | None = None
        self._heartbeat_override = heartbeat_interval
        self._stall_override = stall_timeout
        self._handshake_interval: float | None = None
        self._heartbeats_sent = 0
        self._seen = MsgIdWindow(dedup_size)

    # -- inputs ----------------------------------------------------------------------------

    def accept_fetch(self, result: FetchResult) -> tuple[LiveEvent, ...]:
        """A fetch result from the sign provider (first or resumed) or a polling round."""
        self._require(State.IDLE, State.RECONNECTING, State.POLLING, State.CONNECTED)
        self._remember(result)
        if result.push_server:
            self.push_server = result.push_server
            self.route_params = {k: v for k, v in result.route_params.items() if v}
        if self.state in (State.IDLE, State.RECONNECTING):
            self.state = State.CONNECTING
        return self._new_events(result.messages)

    def opened(self, handshake_options: str | None = None) -> bytes:
        """The socket is open: returns the im_enter_room frame to send first."""
        self._require(State.CONNECTING)
        self._handshake_interval = _ping_interval(handshake_options)
        self.state = State.CONNECTED
        self._heartbeats_sent = 0
        return encode_enter_room(self.room_id, cursor=self.cursor)

    def receive(self, data: bytes) -> FrameOutcome:
        self._require(State.CONNECTED)
        decoded = decode_frame_events(data)
        if decoded.fetch is not None and not decoded.error:
            self._remember(decoded.fetch)
        return FrameOutcome(self._new_events(decoded.events), decoded.ack_frame())

    def heartbeat(self) -> bytes:
        self._require(State.CONNECTED)
        self._heartbeats_sent += 1
        return encode_heartbeat(self.room_id, self._heartbeats_sent)

    def lost(self) -> None:
        """The socket (or the attempt to open it) failed; the next fetch resumes."""
        if self.state not in FINAL_STATES:
            self.state = State.RECONNECTING

    def start_polling(self) -> None:
        """TikTok refused the WebSocket: continue over webcast/im/fetch."""
        self._require(State.CONNECTING, State.RECONNECTING)
        self.state = State.POLLING

    def close(self, reason: str = "closed") -> None:
        if self.state not in FINAL_STATES:
            self.state = State.CLOSED
            self.end_reason = reason

    # -- derived ---------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def heartbeat_interval(self) -> float:
        """The server's interval: Handshake-Options ping-interval, else heartbeat_duration."""
        if self._heartbeat_override:
            return self._heartbeat_override
        if self._handshake_interval:
            return self._handshake_interval
        if self.heartbeat_ms > 0:
            return self.heartbeat_ms / 1000
        return DEFAULT_HEARTBEAT_INTERVAL

    @property
    def stall_timeout(self) -> float:
        """Silence after which the socket counts as dead (TikTok answers heartbeats)."""
        return self._stall_override or max(MIN_STALL_TIMEOUT, 3 * self.heartbeat_interval)

    @property
    def poll_interval(self) -> float:
        return max(0.05, self.fetch_interval_ms / 1000) if self.fetch_interval_ms else 1.0

    def websocket_url(self) -> str:
        if not self.push_server or not self.cursor:
            raise InvalidTransition("no push_server/cursor yet: accept a fetch result first")
        params = {
            **self.route_params,
            **ws_client_params(self.profile),
            "room_id": str(self.room_id),
            "compress": "gzip",
            "cursor": self.cursor,
            "internal_ext": self.internal_ext,
        }
        separator = "&" if "?" in self.push_server else "?"
        # Both reference clients append version_code=270000 after the defaults' 180800.
        return f"{self.push_server}{separator}{urlencode(params)}&version_code=270000"

    # -- internals -------------------------------------------------------------------------

    def _require(self, *states: State) -> None:
        if self.state not in states:
            raise InvalidTransition(f"not allowed in state {self.state.value}")

    def _remember(self, result: FetchResult) -> None:
        if result.cursor:
            self.cursor = result.cursor
        if result.internal_ext:
            self.internal_ext = result.internal_ext
        if result.fetch_interval:
            self.fetch_interval_ms = result.fetch_interval
        if result.heartbeat_duration:
            self.heartbeat_ms = result.heartbeat_duration

    def _new_events(self, events: Iterable[LiveEvent]) -> tuple[LiveEvent, ...]:
        fresh = []
        for event in events:
            if self.state in FINAL_STATES:
                break  # nothing after the stream ended
            if event.msg_id and not self._seen.add(event.msg_id):
                continue
            fresh.append(event)
            if isinstance(event, RoomUserEvent):
                self.viewers = event.viewer_count
            elif isinstance(event, ControlEvent) and event.action == "ended":
                self.state = State.ENDED
                self.end_reason = event.reason or "ended"
        return tuple(fresh)


def ws_client_params(profile: BrowserProfile) -> dict[str, str]:
    """The query a browser's webcast socket carries besides route params and room id."""
    return {
        "aid": "1988",
        "app_language": profile.language,
        "app_name": "tiktok_web",
        "browser_platform": profile.browser_platform,
        "browser_language": profile.browser_language,
        "browser_name": profile.browser_name,
        "browser_version": profile.browser_version,
        "browser_online": "true",
        "cookie_enabled": "true",
        "tz_name": profile.tz_name,
        "device_platform": "web",
        "identity": "audience",
        "live_id": "12",
        "sup_ws_ds_opt": "1",
        "update_version_code": "2.0.0",
        "version_code": "180800",
        "client_enter": "1",
        "did_rule": "3",
        "webcast_language": profile.language,
        "screen_height": str(profile.screen_height),
        "screen_width": str(profile.screen_width),
        "heartbeat_duration": "0",
        "resp_content_type": "protobuf",
        "history_comment_count": "6",
    }


def _ping_interval(handshake_options: str | None) -> float | None:
    """`ping-interval` (seconds) from the cookie-formatted Handshake-Options header."""
    if not handshake_options:
        return None
    jar = SimpleCookie()
    try:
        jar.load(handshake_options)
    except CookieError:
        return None
    morsel = jar.get("ping-interval")
    try:
        value = float(morsel.value) if morsel is not None else 0.0
    except ValueError:
        return None
    return value if 0 < value < 3600 else None
