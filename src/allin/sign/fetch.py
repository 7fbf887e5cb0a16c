"""AllIN's own EulerStream-compatible `webcast/fetch`: fetch TikTok's `webcast/im/fetch` for a
room (signed by a pluggable WebcastSigner) and hand back the raw ProtoMessageFetchResult with the
session cookie, exactly as Euler's sign server does."""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from typing import Protocol
from urllib.parse import urlencode

import httpx
from google.protobuf.message import DecodeError

from allin.core.http import create_http_client
from allin.core.text import is_ascii_digits
from allin.live.errors import LiveError
from allin.live.protocol import webcast_pb2 as pb
from allin.live.web import (
    DEFAULT_USER_AGENT,
    DEFAULT_WEB_URL,
    BrowserProfile,
    TikTokWeb,
    tls_verify,
)
from allin.sign.responses import EulerError

SESSION_COOKIE = "ttwid"


@dataclass(frozen=True, slots=True)
class WebcastRequest:
    """One GET to TikTok, before or after signing."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)


class WebcastSigner(Protocol):
    """Makes a webcast request acceptable to TikTok (X-Bogus, msToken, a browser session...)."""

    name: str

    async def sign(self, request: WebcastRequest) -> WebcastRequest: ...


class PassThroughSigner:
    """Sends requests unsigned: enough for the simulator (and for self-tests)."""

    name = "passthrough"

    async def sign(self, request: WebcastRequest) -> WebcastRequest:
        return request


@dataclass(frozen=True, slots=True)
class FetchQuery:
    """What an Euler client asks for (`/webcast/fetch` or `/webcast/rooms/{id}/connect`)."""

    room_id: int | None = None
    unique_id: str | None = None
    user_agent: str = DEFAULT_USER_AGENT
    cursor: str = ""
    client_enter: bool = True


@dataclass(frozen=True, slots=True)
class FetchedWebcast:
    """TikTok's answer: the raw fetch result and the cookies of the session that got it."""

    body: bytes
    cookies: tuple[tuple[str, str], ...]
    room_id: int

    def tt_cookie_header(self) -> str:
        """The X-Set-TT-Cookie value: ttwid first, because the Node client keeps only the
        first `name=value`; Python clients read them all."""
        return "; ".join(f"{name}={value}" for name, value in self.cookies)


class FetchError(EulerError):
    """A failure to report to the Euler client as `{code, message}` with `status` (and a
    request id, as Euler's own answers carry)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message, headers={"X-Request-Id": uuid.uuid4().hex})


def create_tiktok_http(*, timeout: float, verify: bool | str = True) -> httpx.AsyncClient:
    """One pooled client for TikTok's hosts. It keeps no cookies: every caller's TikTok
    session is its own (the fetch reads the Set-Cookie headers of its own answer)."""
    http = create_http_client(timeout=timeout, verify=tls_verify(verify))
    http.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return http


class WebcastFetcher:
    """Fetches `{webcast_url}/im/fetch/` with a fresh TikTok session per call, through
    ``http`` (a client from `create_tiktok_http`), or a client of its own per call."""

    def __init__(
        self,
        *,
        webcast_url: str,
        http: httpx.AsyncClient | None = None,
        web_url: str = DEFAULT_WEB_URL,
        signer: WebcastSigner | None = None,
        timeout: float = 15.0,
        verify: bool | str = True,
        rng: random.Random | None = None,
    ) -> None:
        self.webcast_url = webcast_url.rstrip("/")
        self.web_url = web_url.rstrip("/")
        self.signer = signer or PassThroughSigner()
        self.timeout = timeout
        self.verify = verify
        self.http = http
        self._rng = rng or random.Random()  # noqa: S311 - device ids, not secrets

    async def fetch(self, query: FetchQuery) -> FetchedWebcast:
        room_id = query.room_id or await self._resolve_room_id(query)
        profile = BrowserProfile(user_agent=query.user_agent or DEFAULT_USER_AGENT)
        request = await self.signer.sign(self._request(room_id, query, profile))
        try:
            response = await self._get(request)
        except httpx.HTTPError as exc:
            raise FetchError(502, f"Could not reach TikTok: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise FetchError(502, f"TikTok answered HTTP {response.status_code}")
        if not response.content:
            raise FetchError(500, "Empty response payload received! (Internal Code: 200)")
        body = ensure_first(response.content)
        cookies = session_cookies(response.headers.get_list("set-cookie"))
        if not cookies or cookies[0][0] != SESSION_COOKIE:
            raise FetchError(500, "TikTok set no ttwid session cookie")
        return FetchedWebcast(body=body, cookies=cookies, room_id=room_id)

    async def _get(self, request: WebcastRequest) -> httpx.Response:
        if self.http is not None:
            return await self.http.get(request.url, headers=dict(request.headers))
        async with create_tiktok_http(timeout=self.timeout, verify=self.verify) as http:
            return await http.get(request.url, headers=dict(request.headers))

    def _request(self, room_id: int, query: FetchQuery, profile: BrowserProfile) -> WebcastRequest:
        params = {
            **profile.web_params(self._rng),
            "room_id": str(room_id),
            "cursor": query.cursor,
            "internal_ext": "",
            "resp_content_type": "protobuf",
            "did_rule": "3",
            "fetch_rule": "1",
            "last_rtt": "0",
            "live_id": "12",
            "identity": "audience",
            "version_code": "180800",
        }
        if query.client_enter:
            params["client_enter"] = "1"
        headers = {**profile.headers(DEFAULT_WEB_URL), "Accept": "application/protobuf"}
        return WebcastRequest(f"{self.webcast_url}/im/fetch/?{urlencode(params)}", headers)

    async def _resolve_room_id(self, query: FetchQuery) -> int:
        if not query.unique_id:
            raise FetchError(400, "room_id or unique_id is required")
        profile = BrowserProfile(user_agent=query.user_agent or DEFAULT_USER_AGENT)
        async with TikTokWeb(
            web_url=self.web_url,
            webcast_url=self.webcast_url,
            profile=profile,
            timeout=self.timeout,
            verify=self.verify,
        ) as web:
            try:
                return await web.fetch_room_id(query.unique_id)
            except LiveError as exc:
                raise FetchError(exc.status_code, exc.message) from exc


def session_cookies(set_cookie_headers: list[str]) -> tuple[tuple[str, str], ...]:
    """`name=value` of each Set-Cookie header (attributes dropped), ttwid first."""
    pairs: dict[str, str] = {}
    for header in set_cookie_headers:
        name, sep, value = header.split(";", 1)[0].strip().partition("=")
        if sep and name and value:
            pairs[name] = value
    ordered = sorted(pairs.items(), key=lambda kv: kv[0] != SESSION_COOKIE)
    return tuple(ordered)


def ensure_first(body: bytes) -> bytes:
    """The fetch result with is_first set (TikTokLive enters the room only then), everything
    else, unknown fields included, unchanged. Raises FetchError when it is not a fetch result
    a client could connect with."""
    try:
        result = pb.ProtoMessageFetchResult.FromString(body)
    except DecodeError as exc:
        raise FetchError(502, "TikTok's answer is not a webcast fetch result") from exc
    if not result.push_server or not result.cursor:
        raise FetchError(404, "Room not found or not live: TikTok gave no push server or cursor")
    if result.is_first:
        return body
    result.is_first = True
    return result.SerializeToString()


def parse_query(params: Mapping[str, str], room_id: str | None = None) -> FetchQuery:
    """Reads the Euler query leniently (unknown parameters are ignored, as Euler does)."""
    raw_room = room_id if room_id is not None else params.get("room_id", "")
    if raw_room and not is_ascii_digits(raw_room):
        raise FetchError(400, "room_id must be numeric")
    return FetchQuery(
        room_id=int(raw_room) if raw_room and int(raw_room) > 0 else None,
        unique_id=params.get("unique_id") or None,
        user_agent=params.get("user_agent") or DEFAULT_USER_AGENT,
        cursor=params.get("cursor", ""),
        client_enter=params.get("client_enter", "true").lower() not in ("false", "0"),
    )
