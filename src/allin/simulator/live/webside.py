"""TikTok's web side as the simulator serves it: the live page with SIGI_STATE, api-live,
webcast room/check_alive, room/info, gift/list and the protobuf im/fetch, shaped like TikTok's
own answers."""

from __future__ import annotations

import html
import json
import secrets
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from allin.core.text import is_ascii_digits
from allin.live.errors import InvalidUsernameError
from allin.live.protocol import encode_fetch_result, gift_catalog
from allin.live.usernames import normalize_username
from allin.sign.browser_script import page_signing
from allin.simulator.live.push import PUSH_PATH
from allin.simulator.live.rooms import Room, RoomStatus, decode_cursor, encode_cursor, internal_ext
from allin.simulator.live.simulator import Simulator

web_router = APIRouter()
webcast_router = APIRouter()
LIVE, OFFLINE = 2, 4  # TikTok's room status values
USER_NOT_FOUND = 19881007
AGE_RESTRICTION_CODE = 4003110
PROTOBUF = "application/protobuf"


def _sim(request: Request) -> Simulator:
    sim: Simulator = request.app.state.simulator
    return sim


def _room_for(request: Request, username: str) -> Room | None:
    try:
        return _sim(request).room(normalize_username(username))
    except InvalidUsernameError:
        return None


def _status(room: Room) -> int:
    return LIVE if room.is_live else OFFLINE


def _extra(sim: Simulator) -> dict[str, Any]:
    return {"now": sim.now_ms(), "log_id": secrets.token_hex(16)}


def _avatar(room: Room) -> str:
    return f"https://example.invalid/avatar/{room.user_id}.webp"


def _web_user(room: Room) -> dict[str, Any]:
    return {
        "id": str(room.user_id),
        "uniqueId": room.username,
        "nickname": room.nickname,
        "avatarThumb": _avatar(room),
        "secUid": f"MS4wLjABAAAA{room.user_id:x}",
        "roomId": str(room.room_id),
        "status": _status(room),
    }


def _web_live_room(room: Room, sim: Simulator) -> dict[str, Any]:
    room.due(sim.now_ms())
    return {
        "title": room.title,
        "status": _status(room),
        "startTime": room.started_at_ms // 1000,
        "liveRoomStats": {"userCount": room.viewer_count, "enterCount": room.total_viewers},
    }


# -- www.tiktok.com --------------------------------------------------------------------------


@web_router.get("/@{username}/live", response_class=HTMLResponse)
async def live_page(request: Request, username: str) -> HTMLResponse:
    sim = _sim(request)
    room = _room_for(request, username)
    state: dict[str, Any] = {"AppContext": {"appContext": {"language": "en", "region": "US"}}}
    if room is not None:
        state["LiveRoom"] = {
            "liveRoomUserInfo": {"user": _web_user(room), "liveRoom": _web_live_room(room, sim)},
            "loadingState": {"getRoomInfo": 1},
        }
    # "</" must not appear inside the script element.
    payload = json.dumps(state, separators=(",", ":")).replace("</", "<\\/")
    title = html.escape(room.title if room else "TikTok LIVE")
    page = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'{page_signing(sim).script_tag()}</head><body><div id="app"></div>'
        f'<script id="SIGI_STATE" type="application/json">{payload}</script></body></html>'
    )
    return HTMLResponse(page)


@web_router.get("/api-live/user/room/")
@web_router.get("/api-live/user/room", include_in_schema=False)
async def api_live_user_room(request: Request) -> JSONResponse:
    sim = _sim(request)
    room = _room_for(request, request.query_params.get("uniqueId", ""))
    if room is None:
        return JSONResponse(
            {
                "data": {},
                "extra": _extra(sim),
                "message": "user_not_found",
                "statusCode": USER_NOT_FOUND,
            }
        )
    data = {"user": _web_user(room), "liveRoom": _web_live_room(room, sim)}
    return JSONResponse({"data": data, "extra": _extra(sim), "message": "", "statusCode": 0})


# -- webcast.tiktok.com/webcast ---------------------------------------------------------------


@webcast_router.get("/room/check_alive/")
async def check_alive(request: Request) -> JSONResponse:
    sim = _sim(request)
    data = []
    for raw in request.query_params.get("room_ids", "").split(","):
        if not is_ascii_digits(raw.strip()):
            continue
        room = sim.room_by_id(int(raw))
        if room is not None:
            room.due(sim.now_ms())
        alive = room is not None and room.is_live
        data.append({"alive": alive, "room_id": int(raw), "room_id_str": raw.strip()})
    return JSONResponse({"data": data, "extra": _extra(sim), "status_code": 0})


@webcast_router.get("/room/info/")
async def room_info(request: Request) -> JSONResponse:
    sim = _sim(request)
    raw = request.query_params.get("room_id", "")
    room = sim.room_by_id(int(raw)) if is_ascii_digits(raw) else None
    if room is None:
        return JSONResponse(
            {"data": {"message": "room not found"}, "extra": _extra(sim), "status_code": 30003}
        )
    if room.status is RoomStatus.AGE_RESTRICTED:
        data = {
            "message": "This LIVE is age-restricted",
            "prompts": "To watch this LIVE, log in and confirm you are 18 or older.",
        }
        return JSONResponse(
            {"data": data, "extra": _extra(sim), "status_code": AGE_RESTRICTION_CODE}
        )
    return JSONResponse({"data": _room_info(room, sim), "extra": _extra(sim), "status_code": 0})


def _room_info(room: Room, sim: Simulator) -> dict[str, Any]:
    room.due(sim.now_ms())
    stream = f"https://example.invalid/stage/stream-{room.room_id}"
    return {
        "id": room.room_id,
        "id_str": str(room.room_id),
        "status": _status(room),
        "title": room.title,
        "create_time": room.started_at_ms // 1000,
        "user_count": room.viewer_count,
        "stats": {"total_user": room.total_viewers, "enter_count": room.total_viewers},
        "owner": {
            "id": room.user_id,
            "id_str": str(room.user_id),
            "display_id": room.username,
            "nickname": room.nickname,
            "sec_uid": f"MS4wLjABAAAA{room.user_id:x}",
            "avatar_thumb": {"url_list": [_avatar(room)]},
        },
        "stream_url": {
            "flv_pull_url": {"FULL_HD1": f"{stream}_or4.flv", "HD1": f"{stream}_hd.flv"},
            "hls_pull_url": f"{stream}/index.m3u8",
        },
    }


@webcast_router.get("/gift/list/")
async def gift_list(request: Request) -> JSONResponse:
    gifts = [
        {
            "id": g.id,
            "name": g.name,
            "diamond_count": g.diamond_count,
            "type": g.type,
            "combo": g.combo,
            "describe": g.describe,
            "image": {"uri": g.image_uri, "url_list": [f"https://example.invalid/{g.image_uri}"]},
        }
        for g in sorted(gift_catalog().values(), key=lambda g: g.id)
    ]
    return JSONResponse(
        {"data": {"gifts": gifts}, "extra": _extra(_sim(request)), "status_code": 0}
    )


@webcast_router.get(
    "/im/fetch/", response_class=Response, responses={200: {"content": {PROTOBUF: {}}}}
)
@webcast_router.get("/im/fetch", include_in_schema=False)
async def im_fetch(request: Request) -> Response:
    """The first fetch (client_enter=1) is what sign servers relay: is_first, the push server
    and the route_params that admit one socket; later fetches (polling) continue from cursor."""
    sim = _sim(request)
    if not page_signing(sim).admit(request):  # the live page's own signature (browser_script)
        return Response(status_code=403)
    params = request.query_params
    raw = params.get("room_id", "")
    room = sim.room_by_id(int(raw)) if is_ascii_digits(raw) else None
    now = sim.now_ms()
    ttwid = request.cookies.get("ttwid") or _new_ttwid(now)
    if room is None or room.status is not RoomStatus.LIVE:
        body = encode_fetch_result(now=now, fetch_interval=sim.config.fetch_interval_ms)
        return _protobuf(body, ttwid, request)
    available = room.due(now)
    start = decode_cursor(params.get("cursor", ""))
    if room.ended:
        return _protobuf(_tail(sim, room, start, now), ttwid, request)
    if start is None or start > available:
        start = max(0, available - sim.config.history)
    end = min(available, start + sim.config.max_batch)
    user_agent = request.headers.get("user-agent", "")
    token = sim.issue_session(room, end, ttwid, user_agent, first_index=start)
    scheme = "wss" if request.url.scheme == "https" else "ws"
    body = encode_fetch_result(
        [item.event for item in room.events[start:end]],
        cursor=encode_cursor(end, now),
        fetch_interval=sim.config.fetch_interval_ms,
        now=now,
        internal_ext=internal_ext(room.room_id, end, now, now),
        fetch_type=1,
        route_params={"wrss": token, "imprp": secrets.token_urlsafe(12)},
        heartbeat_duration=round(sim.config.heartbeat_interval * 1000),
        need_ack=sim.config.need_ack,
        push_server=f"{scheme}://{request.url.netloc}{PUSH_PATH}",
        is_first=params.get("client_enter") == "1",
    )
    return _protobuf(body, ttwid, request)


def _tail(sim: Simulator, room: Room, start: int | None, now: int) -> bytes:
    """After the end there is no socket to offer, only what a cursor had not yet seen."""
    available = len(room.events)
    first = available if start is None or start > available else start
    end = min(available, first + sim.config.max_batch)
    return encode_fetch_result(
        [item.event for item in room.events[first:end]],
        cursor=encode_cursor(end, now),
        fetch_interval=sim.config.fetch_interval_ms,
        now=now,
        internal_ext=internal_ext(room.room_id, end, now, now),
    )


def _protobuf(body: bytes, ttwid: str, request: Request) -> Response:
    response = Response(body, media_type=PROTOBUF)
    if request.cookies.get("ttwid") != ttwid:
        response.set_cookie(
            "ttwid",
            ttwid,
            max_age=365 * 24 * 3600,
            httponly=True,
            secure=request.url.scheme == "https",
            samesite=None,
        )
    return response


def _new_ttwid(now_ms: int) -> str:
    # TikTok's shape: 1|<token>|<unix seconds>|<hex digest>, URL-encoded.
    return f"1%7C{secrets.token_urlsafe(32)}%7C{now_ms // 1000}%7C{secrets.token_hex(32)}"
