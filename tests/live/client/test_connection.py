"""The sans-I/O connection state machine, without sockets."""

from __future__ import annotations

import random
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allin.live.connection import (
    DEFAULT_HEARTBEAT_INTERVAL,
    Backoff,
    InvalidTransition,
    LiveConnection,
    MsgIdWindow,
    State,
)
from allin.live.protocol import (
    ChatEvent,
    ControlEvent,
    RoomUserEvent,
    decode_enter_room,
    decode_fetch_result,
    decode_heartbeat,
    decode_push_frame,
    encode_fetch_result,
    encode_push_frame,
)

ROOM = 7_400_000_000_000_000_001


def chat(msg_id: int, text: str = "hi") -> ChatEvent:
    return ChatEvent(msg_id=msg_id, room_id=ROOM, create_time=1_700_000_000_000, content=text)


def fetch(*events: object, cursor: str = "c1", **fields: object) -> bytes:
    defaults: dict[str, object] = {
        "cursor": cursor,
        "internal_ext": f"ext-{cursor}",
        "push_server": "wss://push.example/ws/",
        "route_params": {"wrss": "token", "imprp": "", "x": "1"},
        "heartbeat_duration": 10_000,
        "fetch_interval": 1000,
        "need_ack": True,
        "is_first": True,
    }
    defaults.update(fields)
    return encode_fetch_result(events, **defaults)  # type: ignore[arg-type]


def msg_frame(*events: object, cursor: str, log_id: int = 5, gzip: bool = True) -> bytes:
    return encode_push_frame(fetch(*events, cursor=cursor), log_id=log_id, gzip=gzip)


def connected(**kwargs: object) -> LiveConnection:
    conn = LiveConnection(ROOM, **kwargs)  # type: ignore[arg-type]
    conn.accept_fetch(decode_fetch_result(fetch(chat(1))))
    conn.opened("ping-interval=3")
    return conn


def test_first_fetch_then_socket_then_frames() -> None:
    conn = LiveConnection(ROOM)
    assert conn.state is State.IDLE
    events = conn.accept_fetch(decode_fetch_result(fetch(chat(1), chat(2))))
    assert [e.msg_id for e in events] == [1, 2]
    assert conn.state is State.CONNECTING
    assert (conn.cursor, conn.internal_ext) == ("c1", "ext-c1")
    enter = decode_push_frame(conn.opened("ping-interval=3"))
    assert enter.payload_type == "im_enter_room"
    entered = decode_enter_room(enter.payload)
    assert (entered.room_id, entered.cursor, entered.identity) == (ROOM, "c1", "audience")
    assert conn.state is State.CONNECTED
    outcome = conn.receive(msg_frame(chat(2), chat(3), cursor="c2", log_id=99))
    assert [e.msg_id for e in outcome.events] == [3]  # 2 was already delivered by the fetch
    assert conn.cursor == "c2"
    ack = decode_push_frame(outcome.ack or b"")
    assert (ack.payload_type, ack.log_id, ack.payload) == ("ack", 99, b"ext-c2")


def test_no_ack_unless_asked() -> None:
    conn = connected()
    frame = encode_push_frame(fetch(chat(7), cursor="c2", need_ack=False), log_id=3)
    assert conn.receive(frame).ack is None


def test_non_msg_frames_carry_nothing() -> None:
    conn = connected()
    outcome = conn.receive(encode_push_frame(b"\x08\x01", payload_type="hb"))
    assert outcome.events == () and outcome.ack is None


def test_garbage_frame_is_an_event_not_an_exception() -> None:
    conn = connected()
    outcome = conn.receive(b"\xff\xff\xff not protobuf")
    assert [e.type for e in outcome.events] == ["decode_error"]
    assert conn.state is State.CONNECTED and conn.cursor == "c1"


def test_heartbeats_count_up_and_use_the_server_interval() -> None:
    conn = connected()
    seqs = [decode_heartbeat(decode_push_frame(conn.heartbeat()).payload) for _ in range(3)]
    assert [(h.room_id, h.seq_id) for h in seqs] == [(ROOM, 1), (ROOM, 2), (ROOM, 3)]
    assert conn.heartbeat_interval == 3.0  # Handshake-Options wins over heartbeat_duration


@pytest.mark.parametrize(
    ("options", "duration", "override", "expected"),
    [
        ("ping-interval=4", 10_000, None, 4.0),
        (None, 8_000, None, 8.0),
        ("garbage;;=", 0, None, DEFAULT_HEARTBEAT_INTERVAL),
        ("ping-interval=4", 10_000, 0.5, 0.5),
    ],
)
def test_heartbeat_interval_sources(
    options: str | None, duration: int, override: float | None, expected: float
) -> None:
    conn = LiveConnection(ROOM, heartbeat_interval=override)
    conn.accept_fetch(decode_fetch_result(fetch(heartbeat_duration=duration)))
    conn.opened(options)
    assert conn.heartbeat_interval == expected


def test_reconnect_resumes_from_the_last_cursor_and_dedups() -> None:
    conn = connected()
    conn.receive(msg_frame(chat(2), chat(3), cursor="c3"))
    conn.lost()
    assert conn.state is State.RECONNECTING
    with pytest.raises(InvalidTransition):
        conn.receive(msg_frame(chat(4), cursor="c4"))
    resumed = conn.accept_fetch(decode_fetch_result(fetch(chat(3), chat(4), cursor="c4")))
    assert [e.msg_id for e in resumed] == [4]
    url = conn.websocket_url()
    params = dict(parse_qsl(urlsplit(url).query))
    assert params["cursor"] == "c4" and params["internal_ext"] == "ext-c4"
    conn.opened(None)
    assert [e.msg_id for e in conn.receive(msg_frame(chat(4), chat(5), cursor="c5")).events] == [5]


def test_websocket_url_carries_route_params_and_client_params() -> None:
    conn = connected()
    url = conn.websocket_url()
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "wss://push.example/ws/"
    pairs = parse_qsl(parts.query)
    params = dict(pairs)
    assert params["wrss"] == "token" and params["x"] == "1"
    assert "imprp" not in params  # empty route params are left out, as the peers do
    assert params["room_id"] == str(ROOM) and params["compress"] == "gzip"
    assert params["aid"] == "1988" and params["identity"] == "audience"
    assert pairs[-1] == ("version_code", "270000")


def test_push_server_with_its_own_query() -> None:
    conn = LiveConnection(ROOM)
    conn.accept_fetch(decode_fetch_result(fetch(push_server="wss://p.example/?token=abc")))
    assert conn.websocket_url().startswith("wss://p.example/?token=abc&")


def test_url_needs_a_fetch_first() -> None:
    with pytest.raises(InvalidTransition):
        LiveConnection(ROOM).websocket_url()


def test_stream_end_finishes_and_drops_what_follows() -> None:
    conn = connected()
    end = ControlEvent(msg_id=10, room_id=ROOM, code=3)
    outcome = conn.receive(msg_frame(chat(9), end, chat(11), cursor="c9"))
    assert [e.msg_id for e in outcome.events] == [9, 10]
    assert conn.state is State.ENDED and conn.end_reason == "ended_by_host"
    assert conn.finished
    conn.close("later")
    assert conn.end_reason == "ended_by_host"  # a final state stays final


def test_suspension_is_an_end_too_and_pause_is_not() -> None:
    conn = connected()
    conn.receive(msg_frame(ControlEvent(msg_id=20, code=1), cursor="c20"))
    assert conn.state is State.CONNECTED
    conn.receive(msg_frame(ControlEvent(msg_id=21, code=4), cursor="c21"))
    assert (conn.state, conn.end_reason) == (State.ENDED, "suspended")


def test_viewer_count_follows_room_user_events() -> None:
    conn = connected()
    conn.receive(
        msg_frame(RoomUserEvent(msg_id=30, viewer_count=123, total_viewers=456), cursor="c")
    )
    assert conn.viewers == 123


def test_polling_accepts_fetches() -> None:
    conn = LiveConnection(ROOM)
    conn.accept_fetch(decode_fetch_result(fetch(chat(1))))
    conn.start_polling()
    assert conn.state is State.POLLING
    polled = conn.accept_fetch(decode_fetch_result(fetch(chat(1), chat(2), cursor="c2")))
    assert [e.msg_id for e in polled] == [2]
    assert conn.state is State.POLLING
    assert conn.poll_interval == 1.0
    with pytest.raises(InvalidTransition):
        conn.heartbeat()


def test_closed_refuses_input() -> None:
    conn = connected()
    conn.close("bye")
    assert (conn.state, conn.end_reason) == (State.CLOSED, "bye")
    with pytest.raises(InvalidTransition):
        conn.accept_fetch(decode_fetch_result(fetch()))


def test_events_without_msg_id_are_never_deduplicated() -> None:
    conn = connected()
    twice = conn.receive(msg_frame(chat(0, "a"), chat(0, "b"), cursor="c"))
    assert [e.content for e in twice.events if isinstance(e, ChatEvent)] == ["a", "b"]


@given(st.lists(st.integers(min_value=1, max_value=50), max_size=200))
def test_dedup_yields_each_id_once_in_first_seen_order(ids: list[int]) -> None:
    conn = connected(dedup_size=1000)
    out: list[int] = []
    for start in range(0, len(ids), 7):
        batch = [chat(i) for i in ids[start : start + 7]]
        out += [e.msg_id for e in conn.receive(msg_frame(*batch, cursor=f"c{start}")).events]
    # msg id 1 came with the first fetch already.
    assert out == [i for i in dict.fromkeys(ids) if i != 1]


@given(st.lists(st.integers(min_value=0, max_value=30), max_size=300), st.integers(1, 10))
def test_msg_id_window_is_a_bounded_lru(ids: list[int], size: int) -> None:
    window = MsgIdWindow(size)
    recent: list[int] = []  # most recent last
    for i in ids:
        assert window.add(i) == (i not in recent)
        if i in recent:
            recent.remove(i)
        recent.append(i)
        recent = recent[-size:]
        assert len(window) == len(recent) <= size


@given(
    base=st.floats(0.01, 5),
    cap=st.floats(0.01, 60),
    seed=st.integers(0, 2**32),
    attempts=st.integers(1, 80),
)
def test_backoff_grows_exponentially_within_jitter_bounds(
    base: float, cap: float, seed: int, attempts: int
) -> None:
    backoff = Backoff(base, cap, random.Random(seed))
    for n in range(attempts):
        ceiling = min(cap, base * 2.0**n)
        assert ceiling / 2 <= backoff.next_delay() <= ceiling
    backoff.reset()
    assert backoff.next_delay() <= min(cap, base)


def test_backoff_jitter_differs_between_clients() -> None:
    a = [Backoff(1, 30, random.Random(1)).next_delay() for _ in range(1)]
    b = [Backoff(1, 30, random.Random(2)).next_delay() for _ in range(1)]
    assert a != b
