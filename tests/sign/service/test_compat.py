"""The EulerStream-compatible routes as the reference clients call them (reference §1.3, §2.3,
§3), against the TikTok simulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.responses import HTMLResponse

from allin.live.protocol import decode_fetch_result
from allin.simulator.live.app import create_simulator_app
from allin.simulator.live.rooms import RoomStatus
from allin.simulator.live.simulator import DEMO_STREAMER, OFFLINE_STREAMER, Simulator
from tests.sign.service.conftest import SAMPLE_URL
from tests.support.server import serve

UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0.0.0 Safari/537.36"
SIGN_BODY = {"url": SAMPLE_URL + "?a=1&X-Bogus=old&msToken=old", "userAgent": UA, "method": "GET"}


def assert_sign_url_answer(body: dict[str, Any]) -> None:
    assert body["code"] == 200
    answer = body["response"]
    signed = answer["signedUrl"]
    query = dict(parse_qsl(urlsplit(signed).query))
    assert "msToken=" in signed  # TikTokLive raises SignatureMissingTokensError otherwise
    assert signed.count("X-Bogus=") == 1 and signed.count("msToken=") == 1  # old ones replaced
    assert answer["tokens"]["msToken"] == query["msToken"]
    assert answer["tokens"]["X-Bogus"] == query["X-Bogus"]
    assert answer["tokens"]["x-tt-params"]
    assert answer["userAgent"] == UA
    assert answer["browserName"] == "chrome" and answer["browserVersion"] == "131.0.0.0"
    assert answer["requestHeaders"] == {"User-Agent": UA}


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/webcast/sign_url?client=ttlive-other", False),  # TikTokLive 7, JSON
        ("/webcast/sign_url/", True),  # TikTokLive 6.x: trailing slash, form-encoded
        ("/tiktok/sign_url?client=ttlive-node", False),  # TikTok-Live-Connector >= 2.4
    ],
)
async def test_sign_url(served: Callable[..., Any], path: str, form: bool) -> None:
    async with served() as (_, client):
        if form:
            response = await client.post(path, data=SIGN_BODY)
        else:
            response = await client.post(path, json=SIGN_BODY)
    assert response.status_code == 200
    assert_sign_url_answer(response.json())


async def test_legacy_get_sign_url(served: Callable[..., Any]) -> None:
    """TikTok-Live-Connector 1.x: `GET webcast/sign_url?url=…&client=ttlive-node&uuc=…`."""
    params = {"url": SIGN_BODY["url"], "client": "ttlive-node", "uuc": "1", "userAgent": UA}
    async with served() as (_, client):
        response = await client.get("/webcast/sign_url", params=params)
        refused = await client.get("/webcast/sign_url", params={"url": "https://evil.org/"})
        missing = await client.get("/webcast/sign_url")
    assert response.status_code == 200
    body = response.json()
    query = dict(parse_qsl(urlsplit(body["signedUrl"]).query))
    assert body["code"] == 200 and body["msToken"] == query["msToken"]
    assert body["X-Bogus"] == query["X-Bogus"] and body["signedUrl"].count("X-Bogus=") == 1
    assert body["User-Agent"] == UA and body["_signature"]
    assert (body["browserName"], body["browserVersion"]) == ("chrome", "131.0.0.0")
    assert "X-RateLimit-Remaining" in response.headers  # metered like every sign route
    assert refused.status_code == 400 and refused.json()["error"] == "Invalid TikTok URL"
    assert missing.status_code == 400 and missing.json()["message"] == "`url` is required"


async def test_sign_url_errors(served: Callable[..., Any]) -> None:
    async with served() as (_, client):
        invalid = await client.post("/webcast/sign_url", json={"url": "https://evil.org/"})
        missing = await client.post("/tiktok/sign_url", json={"userAgent": UA})
        wrong_type = await client.post("/tiktok/sign_url", json={"url": SAMPLE_URL, "userAgent": 7})
    for response in (invalid, missing):
        body = response.json()
        assert response.status_code == 400
        assert body["code"] == 400 and body["error"] == "Invalid TikTok URL"
    assert missing.json()["message"] == "`url` is required"
    assert wrong_type.status_code == 400
    assert wrong_type.json()["error"] == "Invalid request"
    assert wrong_type.json()["message"].startswith("`userAgent`")


async def test_fetch_round_trip_with_the_algorithm_signer(
    served: Callable[..., Any], sim: Simulator
) -> None:
    room = sim.room(DEMO_STREAMER)
    assert room is not None
    async with served() as (_, client):
        v1 = await client.get(
            "/webcast/fetch/",
            params={"room_id": room.room_id, "user_agent": UA, "client": "ttlive-python"},
        )
        v2 = await client.get(f"/webcast/rooms/{room.room_id}/connect", params={"cursor": ""})
    for response in (v1, v2):
        assert response.status_code == 200
        assert response.headers["x-set-tt-cookie"].startswith("ttwid=")
        assert response.headers["x-room-id"] == str(room.room_id)
        result = decode_fetch_result(response.content)
        assert result.is_first and result.cursor and result.push_server
        assert result.route_params["wrss"]
    # The push session the simulator issued is bound to the User-Agent the client asked for.
    assert any(session.user_agent == UA for session in sim.sessions.values())


@pytest.mark.parametrize("v2", [False, True])
async def test_room_id(served: Callable[..., Any], sim: Simulator, v2: bool) -> None:
    def path(name: str) -> str:
        return f"/webcast/anchors/{name}/room_id" if v2 else f"/webcast/room_id?uniqueId={name}"

    room = sim.room(DEMO_STREAMER)
    assert room is not None
    async with served() as (_, client):
        live = (await client.get(path(DEMO_STREAMER))).json()
        offline = (await client.get(path(OFFLINE_STREAMER))).json()
        unknown = await client.get(path("nobody_here"))
        impossible = await client.get(path("-" * 40))
    assert live == {
        "code": 200,
        "ok": True,
        "message": "OK",
        "room_id": str(room.room_id),
        "is_live": True,
        "routes_attempted": ["live_page", "check_alive"],
        "source": "live_page",
    }
    assert offline["ok"] is True and offline["is_live"] is False and offline["room_id"] is None
    assert unknown.status_code == 404
    assert unknown.json()["ok"] is False
    assert unknown.json()["routes_attempted"] == []
    assert impossible.status_code == 404


async def test_room_info(served: Callable[..., Any], sim: Simulator) -> None:
    room = sim.room(DEMO_STREAMER)
    assert room is not None
    async with served() as (_, client):
        v1 = (await client.get("/webcast/room_info", params={"uniqueId": DEMO_STREAMER})).json()
        v2 = (await client.get(f"/webcast/anchors/{DEMO_STREAMER}/room_info")).json()
        restricted = await client.get("/webcast/room_info?uniqueId=age_restricted_streamer")
    assert v1 == v2 | {"data": v1["data"]}
    data = v1["data"]
    assert v1["ok"] is True and v1["routes_attempted"][-1] == "room_info"
    assert data["unique_id"] == DEMO_STREAMER
    assert data["user"]["unique_id"] == DEMO_STREAMER
    assert data["user"]["nickname"] == room.nickname
    assert data["user"]["numeric_uid"] == str(room.user_id)
    assert data["room_info"]["id"] == str(room.room_id)
    assert data["room_info"]["is_live"] is True
    assert data["room_info"]["title"] == room.title
    assert data["room_info"]["hls_pull_url"].endswith("index.m3u8")
    assert restricted.status_code == 403
    assert restricted.json()["error"] == "The LIVE is age-restricted"


async def test_bulk_live_check(
    served: Callable[..., Any], sim: Simulator, sign_settings: Callable[..., Any]
) -> None:
    # TikTok resolves a numeric id through the profile page's rehydration data; the simulator
    # has no profile pages, so this test adds them to a simulator app of its own.
    app = create_simulator_app(sim)

    @app.get("/@{ident}")
    async def profile(ident: str) -> HTMLResponse:
        room = next((r for r in sim.rooms.values() if str(r.user_id) == ident), None)
        if room is None:
            return HTMLResponse("<html></html>", status_code=404)
        scope = {"webapp.user-detail": {"userInfo": {"user": {"uniqueId": room.username}}}}
        data = json.dumps({"__DEFAULT_SCOPE__": scope})
        return HTMLResponse(
            '<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">'
            f"{data}</script>"
        )

    live, offline = sim.room(DEMO_STREAMER), sim.room(OFFLINE_STREAMER)
    ended = sim.add_room("ended_streamer", status=RoomStatus.LIVE)
    sim.end_stream("ended_streamer")
    assert live is not None and offline is not None
    async with serve(app) as base:
        hosts = {"tiktok_web_url": base, "tiktok_webcast_url": base + "/webcast"}
        async with served(**hosts) as (_, client):
            ids = [live.user_id, offline.user_id, ended.user_id, 12345]
            response = await client.post("/webcast/bulk_live_check", json={"user_numeric_ids": ids})
            too_many = await client.post(
                "/webcast/bulk_live_check", json={"user_numeric_ids": list(range(1, 52))}
            )
            not_ids = await client.post(
                "/webcast/bulk_live_check", json={"user_numeric_ids": ["x"]}
            )
    data = response.json()["response"]["data"]
    assert data[str(live.user_id)] == {
        "is_live": True,
        "room_id": str(live.room_id),
        "unique_id": DEMO_STREAMER,
    }
    assert data[str(offline.user_id)]["is_live"] is False
    assert data[str(ended.user_id)]["is_live"] is False
    assert data["12345"]["is_live"] is False and data["12345"]["room_id"] is None
    assert "not found" in data["12345"]["error"]
    assert too_many.status_code == not_ids.status_code == 400
