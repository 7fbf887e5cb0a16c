"""AllIN's EulerStream-compatible fetch endpoint (reference §3.4), served by the real app and
relaying the simulator's `webcast/im/fetch`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest
import websockets
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st

from allin.app import create_app
from allin.core.config import Settings
from allin.core.domain import app_state
from allin.live.connection import LiveConnection
from allin.live.protocol import decode_fetch_result, encode_enter_room, encode_fetch_result
from allin.live.protocol import webcast_pb2 as pb
from allin.sign.fetch import (
    FetchError,
    WebcastRequest,
    ensure_first,
    parse_query,
    session_cookies,
)
from allin.sign.service import SignService
from allin.simulator.live.server import RunningSimulator
from allin.simulator.live.simulator import OFFLINE_STREAMER
from tests.simulator.live.support import STREAMER, simulated
from tests.support.server import free_port, serve

pytestmark = pytest.mark.timeout(30)
UA = "Mozilla/5.0 (X11; Linux x86_64) Test/1.0"


@dataclass
class Allin:
    http: httpx.AsyncClient
    app: FastAPI
    sim: RunningSimulator

    def room_id(self, name: str = STREAMER) -> int:
        room = self.sim.simulator.room(name)
        assert room is not None
        return room.room_id


@pytest.fixture
async def allin(make_settings: Callable[..., Settings]) -> AsyncIterator[Allin]:
    async with simulated() as running:
        settings = make_settings(
            tiktok_web_url=running.urls.web, tiktok_webcast_url=running.urls.webcast
        )
        app = create_app(settings)
        async with serve(app) as base, httpx.AsyncClient(base_url=base) as http:
            yield Allin(http, app, running)


def assert_euler_answer(response: httpx.Response, room_id: int) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/protobuf"
    cookie = response.headers["x-set-tt-cookie"]
    assert cookie.startswith("ttwid=") and ";" not in cookie.split("; ")[0]
    assert "Path=" not in cookie and "HttpOnly" not in cookie  # name=value pairs only
    assert response.headers["x-room-id"] == str(room_id)
    assert response.headers["x-request-id"]
    result = decode_fetch_result(response.content)
    assert not result.error
    assert result.is_first
    assert result.cursor and result.internal_ext and result.now > 0
    assert result.push_server.startswith("ws://127.0.0.1:")
    assert any(result.route_params.values())
    assert result.need_ack and result.fetch_interval > 0 and result.heartbeat_duration > 0


@pytest.mark.parametrize("path", ["/webcast/fetch", "/webcast/fetch/"])
async def test_v1_fetch(allin: Allin, path: str) -> None:
    params = {
        "client": "ttlive-python",
        "room_id": allin.room_id(),
        "user_agent": UA,
        "client_enter": "true",
        "platform": "web",
        "country": "DE",
    }
    response = await allin.http.get(path, params=params)  # anonymous: metered per IP
    assert_euler_answer(response, allin.room_id())
    # A key that is given must be valid, wherever the peer libraries put it.
    junk_header = await allin.http.get(path, params=params, headers={"X-Api-Key": "k"})
    junk_query = await allin.http.get(path, params={**params, "apiKey": "nope"})
    assert junk_header.status_code == junk_query.status_code == 401


async def test_v2_connect(allin: Allin) -> None:
    params = {"client": "ttlive-node", "cursor": "", "user_agent": UA, "client_enter": "true"}
    response = await allin.http.get(f"/webcast/rooms/{allin.room_id()}/connect", params=params)
    assert_euler_answer(response, allin.room_id())


async def test_unique_id_instead_of_room_id(allin: Allin) -> None:
    response = await allin.http.get(
        "/webcast/fetch", params={"unique_id": STREAMER, "room_id": "0"}
    )
    assert_euler_answer(response, allin.room_id())


async def test_the_answer_opens_the_websocket(allin: Allin) -> None:
    """What the endpoint hands out (cookie, route params, same UA) is what TikTok admits."""
    response = await allin.http.get(
        "/webcast/fetch", params={"room_id": allin.room_id(), "user_agent": UA}
    )
    conn = LiveConnection(allin.room_id())
    conn.accept_fetch(decode_fetch_result(response.content))
    async with websockets.connect(
        conn.websocket_url(),
        additional_headers={"Cookie": response.headers["x-set-tt-cookie"]},
        user_agent_header=UA,
    ) as ws:
        await ws.send(encode_enter_room(allin.room_id()))
        assert await ws.recv()


async def test_a_later_cursor_is_passed_on(allin: Allin) -> None:
    first = decode_fetch_result(
        (await allin.http.get("/webcast/fetch", params={"room_id": allin.room_id()})).content
    )
    later = await allin.http.get(
        "/webcast/fetch", params={"room_id": allin.room_id(), "cursor": first.cursor}
    )
    seen = {e.msg_id for e in first.messages}
    assert not seen & {e.msg_id for e in decode_fetch_result(later.content).messages}


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 400),
        ({"room_id": "abc"}, 400),
        ({"room_id": "\u00b2"}, 400),
        ({"unique_id": "nobody_here"}, 404),
    ],
)
async def test_bad_requests_are_euler_json(
    allin: Allin, params: dict[str, str], status: int
) -> None:
    response = await allin.http.get("/webcast/fetch", params=params)
    assert response.status_code == status
    body = response.json()
    assert body["code"] == status and body["message"]


async def test_room_that_is_not_live(allin: Allin) -> None:
    response = await allin.http.get(
        "/webcast/fetch", params={"room_id": allin.room_id(OFFLINE_STREAMER)}
    )
    # Not a server fault: the caller asked for a room that is not live (or does not exist).
    assert response.status_code == 404
    assert response.json()["code"] == 404
    assert "push server" in response.json()["message"]


async def test_tiktok_unreachable(make_settings: Callable[..., Settings]) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    app = create_app(make_settings(tiktok_webcast_url=dead + "/webcast"))
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as http:
        response = await http.get("/webcast/fetch", params={"room_id": "1"})
    assert response.status_code == 502
    assert response.json()["code"] == 502


class RecordingSigner:
    name = "recording"

    def __init__(self) -> None:
        self.requests: list[WebcastRequest] = []

    async def sign(self, request: WebcastRequest) -> WebcastRequest:
        self.requests.append(request)
        return WebcastRequest(request.url + "&X-Bogus=DFSzswVLtest", request.headers)


async def test_the_signer_is_pluggable(allin: Allin) -> None:
    signer = RecordingSigner()
    app_state(allin.app).get(SignService).webcast_signer = signer
    response = await allin.http.get(
        "/webcast/fetch", params={"room_id": allin.room_id(), "user_agent": UA}
    )
    assert response.status_code == 200
    [request] = signer.requests
    assert request.url.startswith(allin.sim.urls.webcast + "/im/fetch/?")
    assert f"room_id={allin.room_id()}" in request.url and "client_enter=1" in request.url
    assert request.headers["User-Agent"] == UA


def test_session_cookies_put_ttwid_first() -> None:
    headers = ["tt_csrf=1; Path=/", "ttwid=abc; Max-Age=9; HttpOnly", "msToken=xyz; Secure", "junk"]
    assert session_cookies(headers) == (("ttwid", "abc"), ("tt_csrf", "1"), ("msToken", "xyz"))


@given(
    names=st.lists(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8), max_size=5
    ),
    has_ttwid=st.booleans(),
)
def test_session_cookies_ordering_property(names: list[str], has_ttwid: bool) -> None:
    headers = [f"{n}=v{n}; Path=/" for n in names] + (["ttwid=t; Path=/"] if has_ttwid else [])
    cookies = session_cookies(headers)
    expected = set(names) | ({"ttwid"} if has_ttwid else set())
    assert {k for k, _ in cookies} == expected
    if cookies:
        assert (cookies[0][0] == "ttwid") == ("ttwid" in expected)


@given(cursor=st.text(min_size=1, max_size=20), ext=st.text(max_size=20), first=st.booleans())
def test_ensure_first_sets_only_is_first(cursor: str, ext: str, first: bool) -> None:
    body = encode_fetch_result(
        cursor=cursor, internal_ext=ext, push_server="wss://p/", is_first=first, need_ack=True
    )
    body += b"\xa8\x06\x07"  # an unknown field 101 = 7, which must survive
    fixed = ensure_first(body)
    result = decode_fetch_result(fixed)
    assert (result.is_first, result.cursor, result.internal_ext, result.need_ack) == (
        True,
        cursor,
        ext,
        True,
    )
    assert b"\xa8\x06\x07" in fixed
    if first:
        assert fixed == body


def test_ensure_first_refuses_what_cannot_connect() -> None:
    with pytest.raises(FetchError):
        ensure_first(encode_fetch_result(cursor="c"))
    with pytest.raises(FetchError):
        ensure_first(b"\xff\xff\xff\xff")
    assert pb.ProtoMessageFetchResult.FromString(
        ensure_first(encode_fetch_result(cursor="c", push_server="wss://p/"))
    ).is_first


def test_parse_query_is_lenient() -> None:
    query = parse_query({"room_id": "12", "client_enter": "false", "whatever": "x"})
    assert (query.room_id, query.client_enter, query.cursor) == (12, False, "")
    assert parse_query({"room_id": "0", "unique_id": "u"}).room_id is None
    with pytest.raises(FetchError):
        parse_query({"room_id": "-1"})
