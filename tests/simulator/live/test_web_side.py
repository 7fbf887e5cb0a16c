"""The simulator's web side answers exactly as TikTok's does (reference §1.2, §2.2, §4.1)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from allin.live.protocol import decode_fetch_result
from allin.simulator.live.server import RunningSimulator
from allin.simulator.live.simulator import (
    AGE_RESTRICTED_STREAMER,
    DEMO_STREAMER,
    OFFLINE_STREAMER,
)
from tests.simulator.live.support import STREAMER, simulated

SIGI = re.compile(r'<script id="SIGI_STATE" type="application/json">(.*?)</script>', re.S)


@pytest.fixture
async def running() -> AsyncIterator[RunningSimulator]:
    async with simulated() as running:
        yield running


@pytest.fixture
async def http(running: RunningSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running.urls.web) as client:
        yield client


def room_id(running: RunningSimulator, name: str) -> int:
    room = running.simulator.room(name)
    assert room is not None
    return room.room_id


async def test_live_page_sigi_state(http: httpx.AsyncClient, running: RunningSimulator) -> None:
    page = await http.get(f"/@{DEMO_STREAMER}/live")
    assert page.headers["content-type"].startswith("text/html")
    state = json.loads(SIGI.search(page.text).group(1))  # type: ignore[union-attr]
    info = state["LiveRoom"]["liveRoomUserInfo"]
    assert info["user"]["roomId"] == str(room_id(running, DEMO_STREAMER))
    assert info["user"]["uniqueId"] == DEMO_STREAMER
    assert info["user"]["status"] == 2 and info["liveRoom"]["status"] == 2
    offline = json.loads(SIGI.search((await http.get(f"/@{OFFLINE_STREAMER}/live")).text).group(1))  # type: ignore[union-attr]
    assert offline["LiveRoom"]["liveRoomUserInfo"]["user"]["status"] == 4
    missing = json.loads(SIGI.search((await http.get("/@nobody/live")).text).group(1))  # type: ignore[union-attr]
    assert "LiveRoom" not in missing


async def test_api_live_user_room(http: httpx.AsyncClient, running: RunningSimulator) -> None:
    found = (
        await http.get("/api-live/user/room/", params={"uniqueId": DEMO_STREAMER, "sourceType": 54})
    ).json()
    assert found["statusCode"] == 0
    assert found["data"]["user"]["roomId"] == str(room_id(running, DEMO_STREAMER))
    assert found["data"]["liveRoom"]["status"] == 2
    assert found["data"]["liveRoom"]["liveRoomStats"]["userCount"] >= 1
    missing = (await http.get("/api-live/user/room/", params={"uniqueId": "nobody"})).json()
    assert (missing["message"], missing["statusCode"]) == ("user_not_found", 19881007)


async def test_check_alive(http: httpx.AsyncClient, running: RunningSimulator) -> None:
    ids = f"{room_id(running, DEMO_STREAMER)},{room_id(running, OFFLINE_STREAMER)},123"
    body = (await http.get("/webcast/room/check_alive/", params={"room_ids": ids})).json()
    assert [d["alive"] for d in body["data"]] == [True, False, False]
    assert body["data"][0]["room_id_str"] == str(room_id(running, DEMO_STREAMER))


async def test_room_info(http: httpx.AsyncClient, running: RunningSimulator) -> None:
    live = (
        await http.get("/webcast/room/info/", params={"room_id": room_id(running, DEMO_STREAMER)})
    ).json()
    assert live["data"]["status"] == 2 and live["data"]["owner"]["display_id"] == DEMO_STREAMER
    restricted = (
        await http.get(
            "/webcast/room/info/", params={"room_id": room_id(running, AGE_RESTRICTED_STREAMER)}
        )
    ).json()
    assert "prompts" in restricted["data"]


async def test_gift_list(http: httpx.AsyncClient) -> None:
    gifts = (await http.get("/webcast/gift/list/")).json()["data"]["gifts"]
    assert {"id", "name", "diamond_count", "type", "image"} <= set(gifts[0])


async def test_im_fetch_first_then_polling(
    http: httpx.AsyncClient, running: RunningSimulator
) -> None:
    rid = room_id(running, STREAMER)
    await _wait_for_events(running)
    first = await http.get(
        "/webcast/im/fetch/",
        params={"room_id": rid, "client_enter": "1"},
        headers={"User-Agent": "UA"},
    )
    assert first.headers["content-type"] == "application/protobuf"
    assert first.cookies["ttwid"].startswith("1%7C")
    result = decode_fetch_result(first.content)
    assert result.is_first and result.cursor and result.internal_ext and result.need_ack
    assert result.push_server == running.urls.push
    assert set(result.route_params) == {"wrss", "imprp"} and all(result.route_params.values())
    assert result.fetch_interval == 100 and result.heartbeat_duration == 200 and result.now > 0
    assert 1 <= len(result.messages) <= 3  # the latest history
    http.cookies.set("ttwid", first.cookies["ttwid"])
    later = await http.get("/webcast/im/fetch/", params={"room_id": rid, "cursor": result.cursor})
    assert "set-cookie" not in later.headers  # the session already has its ttwid
    polled = decode_fetch_result(later.content)
    assert not polled.is_first
    seen = {e.msg_id for e in result.messages}
    assert not seen & {e.msg_id for e in polled.messages}


async def test_im_fetch_for_rooms_that_are_not_live(
    http: httpx.AsyncClient, running: RunningSimulator
) -> None:
    for rid in (room_id(running, OFFLINE_STREAMER), 5):
        result = decode_fetch_result(
            (await http.get("/webcast/im/fetch/", params={"room_id": rid})).content
        )
        assert not result.error and not result.push_server and not result.messages


async def _wait_for_events(running: RunningSimulator) -> None:
    room = running.simulator.room(STREAMER)
    assert room is not None
    while room.due(running.simulator.now_ms()) < 5:  # noqa: ASYNC110 - the clock, not an event
        await asyncio.sleep(0.02)
