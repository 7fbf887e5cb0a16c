"""Room lookups behind Euler's `room_id`, `room_info` and `bulk_live_check` routes, made
against TikTok's web side the way the client libraries make them."""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from allin.live.errors import (
    InvalidResponseError,
    LiveError,
    NetworkError,
    UserNotFoundError,
    UserOfflineError,
)
from allin.live.web import DEFAULT_WEB_URL, BrowserProfile, TikTokWeb

MAX_BULK_IDS = 50
_UNIVERSAL_DATA = re.compile(
    r'<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">(.*?)</script>',
    re.DOTALL,
)


@dataclass
class RoomLookup:
    unique_id: str
    room_id: int | None = None
    is_live: bool = False
    routes_attempted: list[str] = field(default_factory=list)
    source: str | None = None


class Lookups:
    """``http`` is the sign service's pooled client for TikTok's hosts (it keeps no cookies);
    `TikTokWeb` keeps each lookup's cookies to itself."""

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        web_url: str,
        webcast_url: str,
        timeout: float,
        verify: bool | str = True,
    ) -> None:
        self.http = http
        self.web_url = web_url.rstrip("/")
        self.webcast_url = webcast_url.rstrip("/")
        self.timeout = timeout
        self.verify = verify
        self._headers = BrowserProfile().headers(DEFAULT_WEB_URL)

    def web(self) -> TikTokWeb:
        return TikTokWeb(
            web_url=self.web_url,
            webcast_url=self.webcast_url,
            timeout=self.timeout,
            verify=self.verify,
        )

    async def room(self, unique_id: str) -> RoomLookup:
        """Room id from the live page, else from api-live; then TikTok's live check.
        Raises UserNotFoundError, NetworkError, InvalidResponseError."""
        async with self.web() as web:
            return await find_room(web, unique_id)

    async def room_info(self, unique_id: str) -> tuple[RoomLookup, dict[str, Any]]:
        async with self.web() as web:
            lookup = await find_room(web, unique_id)
            if lookup.room_id is None:
                return lookup, {}
            lookup.routes_attempted.append("room_info")
            return lookup, await web.fetch_room_info(lookup.room_id, unique_id)

    async def bulk_live_check(self, user_ids: Sequence[int]) -> dict[str, dict[str, Any]]:
        """{user id: {is_live, room_id[, error]}}: each numeric id is turned into its unique
        id through the profile page (as TikTokLive resolves numeric ids), then its room is
        looked up, then all rooms go through one `room/check_alive` call."""
        semaphore = asyncio.Semaphore(5)
        async with self.web() as web:

            async def one(user_id: int) -> tuple[str, dict[str, Any]]:
                async with semaphore:
                    try:
                        unique_id = await self._unique_id(user_id)
                        lookup = await find_room(web, unique_id, check_alive=False)
                    except LiveError as exc:
                        return str(user_id), {
                            "is_live": False,
                            "room_id": None,
                            "error": exc.message,
                        }
                room = str(lookup.room_id) if lookup.room_id else None
                return str(user_id), {"is_live": False, "room_id": room, "unique_id": unique_id}

            results = dict(await asyncio.gather(*(one(u) for u in dict.fromkeys(user_ids))))
            rooms = [r["room_id"] for r in results.values() if r["room_id"]]
            alive = await self._alive(rooms) if rooms else {}
        for entry in results.values():
            entry["is_live"] = alive.get(entry["room_id"] or "", False)
        return results

    async def _unique_id(self, user_id: int) -> str:
        try:
            response = await self.http.get(f"{self.web_url}/@{user_id}", headers=self._headers)
        except httpx.HTTPError as exc:
            raise NetworkError(f"{type(exc).__name__} for the profile page") from exc
        match = _UNIVERSAL_DATA.search(response.text) if response.status_code == 200 else None
        if match is None:
            raise UserNotFoundError(str(user_id))
        try:
            scope = json.loads(match.group(1))["__DEFAULT_SCOPE__"]["webapp.user-detail"]
            unique_id = scope["userInfo"]["user"]["uniqueId"]
        except (ValueError, KeyError, TypeError) as exc:
            raise UserNotFoundError(str(user_id)) from exc
        if not isinstance(unique_id, str) or not unique_id:
            raise UserNotFoundError(str(user_id))
        return unique_id

    async def _alive(self, room_ids: list[str]) -> dict[str, bool]:
        params = {
            **BrowserProfile().web_params(random.Random()),  # noqa: S311
            "room_ids": ",".join(room_ids),
        }
        try:
            response = await self.http.get(
                f"{self.webcast_url}/room/check_alive/", params=params, headers=self._headers
            )
            data = response.json().get("data")
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            raise NetworkError(f"room/check_alive failed: {type(exc).__name__}") from exc
        if not isinstance(data, list):
            raise InvalidResponseError("room/check_alive: no data")
        return {
            str(item.get("room_id_str") or item.get("room_id")): bool(item.get("alive"))
            for item in data
            if isinstance(item, dict)
        }


async def find_room(web: TikTokWeb, unique_id: str, *, check_alive: bool = True) -> RoomLookup:
    lookup = RoomLookup(unique_id)
    lookup.routes_attempted.append("live_page")
    try:
        lookup.room_id = await web.room_id_from_live_page(unique_id)
        lookup.source = "live_page"
    except UserOfflineError:
        lookup.source = "live_page"
        return lookup
    except (InvalidResponseError, UserNotFoundError, NetworkError):
        lookup.routes_attempted.append("api_live")
        try:
            lookup.room_id = await web.room_id_from_api(unique_id)
        except UserOfflineError:
            lookup.source = "api_live"
            return lookup
        lookup.source = "api_live"
    if check_alive:
        lookup.routes_attempted.append("check_alive")
        lookup.is_live = await web.check_alive(lookup.room_id)
    else:
        lookup.is_live = True  # decided later by one bulk check
    return lookup


def _first_url(value: object) -> str | None:
    if isinstance(value, dict):
        urls = value.get("url_list")
        if isinstance(urls, list) and urls:
            return str(urls[0])
    return None


def room_info_payload(lookup: RoomLookup, info: dict[str, Any]) -> dict[str, Any]:
    """Euler's `TikTokLiveUser` built from TikTok's `room/info` data."""
    owner = info.get("owner") if isinstance(info.get("owner"), dict) else {}
    assert isinstance(owner, dict)
    follow = owner.get("follow_info") if isinstance(owner.get("follow_info"), dict) else {}
    assert isinstance(follow, dict)
    stream = info.get("stream_url") if isinstance(info.get("stream_url"), dict) else {}
    assert isinstance(stream, dict)
    flv = stream.get("flv_pull_url") if isinstance(stream.get("flv_pull_url"), dict) else {}
    assert isinstance(flv, dict)
    stats = info.get("stats") if isinstance(info.get("stats"), dict) else {}
    assert isinstance(stats, dict)
    flv_urls = list(flv.values())
    return {
        "unique_id": lookup.unique_id,
        "raw": info,
        "user": {
            "unique_id": owner.get("display_id") or lookup.unique_id,
            "nickname": owner.get("nickname"),
            "numeric_uid": owner.get("id_str") or (str(owner["id"]) if "id" in owner else None),
            "sec_uid": owner.get("sec_uid"),
            "avatar_url": _first_url(owner.get("avatar_thumb")),
            "signature": owner.get("signature"),
            "followers": follow.get("follower_count"),
            "following": follow.get("following_count"),
            "is_verified": bool(owner.get("verified", False)),
        },
        "room_info": {
            "id": str(lookup.room_id) if lookup.room_id else None,
            "status": info.get("status"),
            "is_live": lookup.is_live,
            "title": info.get("title"),
            "cover_url": _first_url(info.get("cover")),
            "start_time": info.get("create_time"),
            "current_viewers": info.get("user_count"),
            "total_viewers": stats.get("total_user"),
            "hls_pull_url": stream.get("hls_pull_url"),
            "flv_pull_url": flv_urls[0] if flv_urls else None,
            "hls_pull_url_ld": stream.get("hls_pull_url_ld"),
            "flv_pull_url_ld": flv_urls[-1] if flv_urls else None,
        },
    }
