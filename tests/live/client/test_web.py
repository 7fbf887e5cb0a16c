"""TikTok's web side through TikTokWeb, against the simulator (and a WAF in front of it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse

from allin.live.errors import (
    AgeRestrictedError,
    InvalidResponseError,
    NetworkError,
    UserNotFoundError,
    UserOfflineError,
)
from allin.live.protocol import decode_fetch_result
from allin.live.web import DEFAULT_USER_AGENT, TikTokWeb
from allin.simulator.live.app import create_simulator_app
from allin.simulator.live.simulator import (
    AGE_RESTRICTED_STREAMER,
    DEMO_STREAMER,
    OFFLINE_STREAMER,
    Simulator,
)
from tests.simulator.live.support import FAST
from tests.support.server import free_port, serve


@asynccontextmanager
async def tiktok(waf: bool = False) -> AsyncIterator[tuple[TikTokWeb, Simulator, list[Request]]]:
    """The simulator, optionally behind a WAF that answers live pages with a challenge (as
    TikTok does to suspected bots), recording every request."""
    sim = Simulator(FAST)
    seen: list[Request] = []
    app = FastAPI()

    @app.middleware("http")
    async def record(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        seen.append(request)
        return await call_next(request)

    if waf:

        @app.get("/@{username}/live")
        async def challenge(username: str) -> HTMLResponse:
            return HTMLResponse("<html><body>Please wait...</body></html>")

    app.mount("/", create_simulator_app(sim))
    async with serve(app) as base, TikTokWeb(web_url=base, webcast_url=base + "/webcast") as web:
        yield web, sim, seen


async def test_room_id_from_the_live_page() -> None:
    async with tiktok() as (web, sim, seen):
        room = sim.room(DEMO_STREAMER)
        assert room is not None
        assert await web.fetch_room_id(DEMO_STREAMER) == room.room_id
    assert [r.url.path for r in seen] == [f"/@{DEMO_STREAMER}/live"]
    assert seen[0].headers["user-agent"] == DEFAULT_USER_AGENT
    assert not seen[0].query_params  # the page is fetched without API parameters


async def test_offline_on_the_page_is_final() -> None:
    async with tiktok() as (web, _, seen):
        with pytest.raises(UserOfflineError):
            await web.fetch_room_id(OFFLINE_STREAMER)
    assert len(seen) == 1


async def test_unknown_user_falls_back_to_the_api_which_says_not_found() -> None:
    async with tiktok() as (web, _, seen):
        with pytest.raises(UserNotFoundError) as info:
            await web.fetch_room_id("no_such_user")
    assert info.value.username == "no_such_user"
    assert [r.url.path for r in seen] == ["/@no_such_user/live", "/api-live/user/room/"]


async def test_waf_page_falls_back_to_api_live() -> None:
    async with tiktok(waf=True) as (web, sim, seen):
        room = sim.room(DEMO_STREAMER)
        assert room is not None
        assert await web.fetch_room_id(DEMO_STREAMER) == room.room_id
    api = seen[-1]
    assert api.url.path == "/api-live/user/room/"
    params = api.query_params
    assert (params["uniqueId"], params["sourceType"], params["aid"]) == (
        DEMO_STREAMER,
        "54",
        "1988",
    )
    assert params["app_name"] == "tiktok_web" and params["device_platform"] == "web_pc"
    assert len(params["device_id"]) == 20 and params["device_id"].isdigit()
    assert "tt-target-idc=useast1a" in api.headers["cookie"]


async def test_api_live_not_found() -> None:
    async with tiktok(waf=True) as (web, _, _seen):
        with pytest.raises(UserNotFoundError):
            await web.room_id_from_api("no_such_user")


async def test_live_check_and_room_info() -> None:
    async with tiktok() as (web, sim, _):
        live, offline, restricted = (
            sim.room(n) for n in (DEMO_STREAMER, OFFLINE_STREAMER, AGE_RESTRICTED_STREAMER)
        )
        assert live and offline and restricted
        assert await web.check_alive(live.room_id) is True
        assert await web.check_alive(offline.room_id) is False
        info = await web.fetch_room_info(live.room_id)
        assert info["status"] == 2 and info["owner"]["display_id"] == DEMO_STREAMER
        assert (await web.fetch_room_info(offline.room_id))["status"] == 4
        with pytest.raises(AgeRestrictedError):
            await web.fetch_room_info(restricted.room_id, AGE_RESTRICTED_STREAMER)


async def test_gift_list() -> None:
    async with tiktok() as (web, _, _seen):
        gifts = await web.fetch_gift_list()
    rose = next(g for g in gifts if g["name"] == "Rose")
    assert (rose["id"], rose["diamond_count"], rose["type"]) == (5655, 1, 1)
    assert len(gifts) == 133


async def test_polling_fetch_continues_from_the_cursor() -> None:
    async with tiktok() as (web, sim, _):
        room = sim.room(DEMO_STREAMER)
        assert room is not None
        first = decode_fetch_result(await web.fetch_im(room.room_id))
        assert first.cursor and not first.error
        assert "ttwid" in web.cookies  # TikTok's session cookie, kept for later calls
        sim.inject_unknown(DEMO_STREAMER)
        later = decode_fetch_result(await web.fetch_im(room.room_id, cursor=first.cursor))
    assert later.messages and later.messages[-1].type == "unknown"
    assert not {e.msg_id for e in first.messages} & {e.msg_id for e in later.messages}


async def test_network_and_garbage_errors() -> None:
    async with TikTokWeb(web_url=f"http://127.0.0.1:{free_port()}") as web:
        with pytest.raises(NetworkError):
            await web.room_id_from_live_page("someone")
    app = FastAPI()

    @app.get("/webcast/room/check_alive/")
    async def not_json() -> Response:
        return Response("<html>blocked</html>", media_type="text/html")

    async with serve(app) as base, TikTokWeb(web_url=base, webcast_url=base + "/webcast") as web:
        with pytest.raises(InvalidResponseError):
            await web.check_alive(1)
