"""TikTok's web side over HTTP: room id, live check, room info, gift list, and the im/fetch poll.

Requests look like a browser's (TikTok blocks obvious bots): one browser profile supplies the
User-Agent, headers and the default web query parameters; the same User-Agent and cookies must
later open the WebSocket.
"""

from __future__ import annotations

import json
import random
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import httpx

from allin.core.http import create_http_client
from allin.live.errors import (
    AgeRestrictedError,
    InvalidResponseError,
    NetworkError,
    UserNotFoundError,
    UserOfflineError,
)

DEFAULT_WEB_URL = "https://www.tiktok.com"
DEFAULT_WEBCAST_URL = "https://webcast.tiktok.com/webcast"
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
OFFLINE_STATUS = 4  # user.status / liveRoom.status when not live
USER_NOT_FOUND_CODE = 19881007
_SIGI_STATE = re.compile(
    r'<script id="SIGI_STATE" type="application/json">(.*?)</script>', re.DOTALL
)


@dataclass(frozen=True, slots=True)
class BrowserProfile:
    """Who we look like to TikTok: the User-Agent and the matching browser parameters."""

    user_agent: str = DEFAULT_USER_AGENT
    language: str = "en"
    browser_language: str = "en-US"
    region: str = "US"
    tz_name: str = "America/New_York"
    browser_platform: str = "Win32"
    os: str = "windows"
    screen_width: int = 1920
    screen_height: int = 1080

    @property
    def browser_name(self) -> str:
        return self.user_agent.split("/", 1)[0]

    @property
    def browser_version(self) -> str:
        return self.user_agent.split("/", 1)[-1]

    def web_params(self, rng: random.Random) -> dict[str, str]:
        """The query parameters TikTok's web client sends with every API call."""
        return {
            "aid": "1988",
            "app_language": self.language,
            "app_name": "tiktok_web",
            "browser_language": self.browser_language,
            "browser_name": self.browser_name,
            "browser_online": "true",
            "browser_platform": self.browser_platform,
            "browser_version": self.browser_version,
            "cookie_enabled": "true",
            "device_platform": "web_pc",
            "focus_state": "true",
            "from_page": "",
            "history_len": str(rng.randint(4, 14)),
            "is_fullscreen": "false",
            "is_page_visible": "true",
            "screen_height": str(self.screen_height),
            "screen_width": str(self.screen_width),
            "tz_name": self.tz_name,
            "channel": "tiktok_web",
            "data_collection_enabled": "true",
            "os": self.os,
            "priority_region": self.region,
            "region": self.region,
            "user_is_login": "false",
            "webcast_language": self.language,
            "msToken": "",
            "device_id": str(rng.randrange(10**19, 10**20)),
        }

    def headers(self, origin: str) -> dict[str, str]:
        return {
            "User-Agent": self.user_agent,
            "Referer": origin + "/",
            "Origin": origin,
            "Accept": "text/html,application/json,application/protobuf",
            "Accept-Language": f"{self.browser_language},{self.language};q=0.9",
            "Sec-Fetch-Site": "same-site",
            "Sec-Fetch-Mode": "cors",
            "Sec-Fetch-Dest": "empty",
        }


def cookie_header(cookies: Mapping[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


class TikTokWeb:
    """Unsigned calls to TikTok's web and webcast hosts, sharing one cookie set."""

    def __init__(
        self,
        *,
        web_url: str = DEFAULT_WEB_URL,
        webcast_url: str = DEFAULT_WEBCAST_URL,
        profile: BrowserProfile | None = None,
        timeout: float = 15.0,
        rng: random.Random | None = None,
        verify: bool | str = True,
    ) -> None:
        self.web_url = web_url.rstrip("/")
        self.webcast_url = webcast_url.rstrip("/")
        self.profile = profile or BrowserProfile()
        self.cookies: dict[str, str] = {"tt-target-idc": "useast1a"}
        self._rng = rng or random.Random()  # noqa: S311 - not security relevant
        origin = DEFAULT_WEB_URL
        self._http = create_http_client(
            timeout=timeout, headers=self.profile.headers(origin), verify=tls_verify(verify)
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def update_cookies(self, cookies: Mapping[str, str]) -> None:
        self.cookies.update(cookies)

    # -- room id ---------------------------------------------------------------------------

    async def fetch_room_id(self, username: str) -> int:
        """The live page's SIGI_STATE first; on any failure but "offline", the api-live route."""
        try:
            return await self.room_id_from_live_page(username)
        except UserOfflineError:
            raise
        except (InvalidResponseError, UserNotFoundError, NetworkError):
            return await self.room_id_from_api(username)

    async def room_id_from_live_page(self, username: str) -> int:
        response = await self._get(f"{self.web_url}/@{username}/live", params=None)
        match = _SIGI_STATE.search(response.text)
        if match is None:
            raise InvalidResponseError("No SIGI_STATE in the live page")
        state = _json_object(match.group(1), "SIGI_STATE")
        live_room = state.get("LiveRoom")
        if not isinstance(live_room, dict):
            raise UserNotFoundError(username)
        user = _path(live_room, "liveRoomUserInfo", "user")
        if user.get("status") == OFFLINE_STATUS:
            raise UserOfflineError(username)
        return _room_id(user.get("roomId"), username)

    async def room_id_from_api(self, username: str) -> int:
        params = {**self._web_params(), "uniqueId": username, "sourceType": "54"}
        body = _json_object((await self._get(f"{self.web_url}/api-live/user/room/", params)).text)
        if body.get("message") == "user_not_found" or body.get("statusCode") == USER_NOT_FOUND_CODE:
            raise UserNotFoundError(username)
        if body.get("statusCode") not in (0, None):
            raise InvalidResponseError(
                f"api-live/user/room: {body.get('message') or body.get('statusCode')}"
            )
        data = body.get("data")
        user = _path(data, "user") if isinstance(data, dict) else {}
        return _room_id(user.get("roomId"), username)

    # -- room state ------------------------------------------------------------------------

    async def check_alive(self, room_id: int) -> bool:
        params = {**self._web_params(), "room_ids": str(room_id)}
        body = await self._get_json(f"{self.webcast_url}/room/check_alive/", params)
        data = body.get("data")
        if not isinstance(data, list) or not data or not isinstance(data[0], dict):
            raise InvalidResponseError("room/check_alive: no data")
        return bool(data[0].get("alive"))

    async def fetch_room_info(self, room_id: int, username: str = "") -> dict[str, Any]:
        """Room details; raises AgeRestrictedError when TikTok only shows a prompt."""
        params = {**self._web_params(), "room_id": str(room_id)}
        body = await self._get_json(f"{self.webcast_url}/room/info/", params)
        data = body.get("data")
        if not isinstance(data, dict):
            raise InvalidResponseError("room/info: no data")
        if "prompts" in data or len(data) <= 1:
            raise AgeRestrictedError(username)
        return data

    async def fetch_gift_list(self) -> list[dict[str, Any]]:
        body = await self._get_json(f"{self.webcast_url}/gift/list/", self._web_params())
        data = body.get("data")
        gifts = data.get("gifts") if isinstance(data, dict) else None
        if not isinstance(gifts, list):
            raise InvalidResponseError("gift/list: no gifts")
        return [g for g in gifts if isinstance(g, dict)]

    async def fetch_im(self, room_id: int, *, cursor: str = "", internal_ext: str = "") -> bytes:
        """One `webcast/im/fetch` poll: the raw ProtoMessageFetchResult after `cursor`."""
        params = {
            **self._web_params(),
            "room_id": str(room_id),
            "cursor": cursor,
            "internal_ext": internal_ext,
            "resp_content_type": "protobuf",
            "did_rule": "3",
            "fetch_rule": "1",
            "last_rtt": "0",
            "live_id": "12",
            "version_code": "180800",
        }
        response = await self._get(f"{self.webcast_url}/im/fetch/", params)
        return response.content

    # -- plumbing --------------------------------------------------------------------------

    def _web_params(self) -> dict[str, str]:
        return self.profile.web_params(self._rng)

    async def _get(self, url: str, params: Mapping[str, str] | None) -> httpx.Response:
        headers = {"Cookie": cookie_header(self.cookies)}
        try:
            response = await self._http.get(url, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise NetworkError(f"{type(exc).__name__} for {url.split('?')[0]}") from exc
        self.cookies.update({k: v for k, v in response.cookies.items() if v})
        if response.status_code != 200:
            raise InvalidResponseError(f"HTTP {response.status_code} from {url.split('?')[0]}")
        return response

    async def _get_json(self, url: str, params: Mapping[str, str]) -> dict[str, Any]:
        return _json_object((await self._get(url, params)).text, url.rsplit("/", 2)[-2])


def _json_object(text: str, what: str = "response") -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidResponseError(f"{what} is not JSON") from exc
    if not isinstance(value, dict):
        raise InvalidResponseError(f"{what} is not a JSON object")
    return value


def _path(value: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        inner = value.get(key)
        if not isinstance(inner, dict):
            raise InvalidResponseError(f"missing {'.'.join(keys)}")
        value = inner
    return value


def _room_id(value: object, username: str) -> int:
    text = str(value or "")
    if not text.isdigit() or int(text) == 0:
        raise UserOfflineError(username, "The user has no LIVE room (not live)")
    return int(text)


def tls_verify(verify: bool | str) -> bool | ssl.SSLContext:
    """httpx/websockets TLS setting: on, off, or trusting one CA file (the simulator's cert)."""
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return verify
