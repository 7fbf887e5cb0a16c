"""The EulerStream-compatible sign provider: one GET gives the room's first fetch result
(push server, route params, cursor) and the ttwid cookie the WebSocket must carry."""

from __future__ import annotations

import email.utils
import json
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Self

import httpx

from allin.core.clock import utcnow
from allin.core.http import create_http_client
from allin.core.text import is_ascii_digits
from allin.live.errors import (
    InvalidResponseError,
    NetworkError,
    SignProviderError,
    SignRateLimitedError,
)
from allin.live.protocol import FetchResult, decode_fetch_result
from allin.live.web import tls_verify

DEFAULT_SIGN_URL = "https://api.eulerstream.com"
DEFAULT_RETRY_AFTER = 60.0
_EPOCH_THRESHOLD = 1_000_000_000  # a reset value this large is a Unix time, not a delay


@dataclass(frozen=True, slots=True)
class SignedFetch:
    """The sign provider's answer, decoded."""

    result: FetchResult
    body: bytes
    cookies: dict[str, str]
    room_id: int | None
    request_id: str | None


class SignProvider:
    """`GET {base_url}/webcast/fetch` with `X-Api-Key` (EulerStream's API)."""

    def __init__(
        self,
        base_url: str = DEFAULT_SIGN_URL,
        api_key: str | None = None,
        *,
        client: str = "ttlive-python",
        timeout: float = 15.0,
        verify: bool | str = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client
        headers = {"Accept": "application/protobuf,application/json"}
        if api_key:
            headers["X-Api-Key"] = api_key
        self._http = create_http_client(timeout=timeout, headers=headers, verify=tls_verify(verify))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def fetch(
        self,
        room_id: int,
        *,
        user_agent: str,
        cursor: str = "",
        platform: str = "web",
        client_enter: bool = True,
    ) -> SignedFetch:
        params = {
            "client": self.client,
            "room_id": str(room_id),
            "user_agent": user_agent,
            "client_enter": "true" if client_enter else "false",
            "platform": platform,
        }
        if cursor:
            params["cursor"] = cursor
        try:
            response = await self._http.get(f"{self.base_url}/webcast/fetch", params=params)
        except httpx.HTTPError as exc:
            raise NetworkError(f"sign provider unreachable: {type(exc).__name__}") from exc
        return parse_sign_response(response)


def parse_sign_response(response: httpx.Response) -> SignedFetch:
    """Maps the sign provider's HTTP answer to a SignedFetch or a typed error."""
    request_id = response.headers.get("x-request-id")
    status = response.status_code
    if status == 429:
        body = _json_body(response)
        raise SignRateLimitedError(
            str(body.get("message") or "") or None,
            retry_after=retry_after_seconds(response.headers),
            limit_label=str(body["limit_label"]) if body.get("limit_label") else None,
            request_id=request_id,
        )
    if status != 200:
        message = str(_json_body(response).get("message") or "") or f"HTTP {status}"
        reason = "PREMIUM_ENDPOINT" if status in (401, 402, 403) else "SIGN_NOT_200"
        raise SignProviderError(
            f"sign provider: {message}", reason=reason, status=status, request_id=request_id
        )
    if not response.content:
        raise SignProviderError(
            "sign provider sent an empty payload", reason="EMPTY_PAYLOAD", status=status
        )
    cookies = parse_tt_cookies(response.headers.get("x-set-tt-cookie", ""))
    if not cookies:
        raise SignProviderError(
            "sign provider sent no X-Set-TT-Cookie", reason="EMPTY_COOKIES", status=status
        )
    result = decode_fetch_result(response.content)
    if result.error:
        raise InvalidResponseError(f"sign provider payload is not a fetch result: {result.error}")
    raw_room = response.headers.get("x-room-id", "")
    return SignedFetch(
        result=result,
        body=response.content,
        cookies=cookies,
        room_id=int(raw_room) if is_ascii_digits(raw_room) and int(raw_room) > 0 else None,
        request_id=request_id,
    )


def parse_tt_cookies(header: str) -> dict[str, str]:
    """Every `name=value` in X-Set-TT-Cookie (cookie attributes ignored)."""
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items() if morsel.value}


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float:
    """Seconds to wait: Retry-After (delay or HTTP date), else RateLimit-Reset / X-RateLimit-Reset
    (a delay, or a Unix time when large), else a conservative default."""
    now = utcnow().timestamp() if now is None else now
    lowered = {k.lower(): v.strip() for k, v in headers.items()}
    value = lowered.get("retry-after", "")
    if value:
        seconds = _number(value)
        if seconds is None:
            try:
                seconds = email.utils.parsedate_to_datetime(value).timestamp() - now
            except (TypeError, ValueError):
                seconds = None
        if seconds is not None:
            return max(0.0, seconds)
    for name in ("ratelimit-reset", "x-ratelimit-reset"):
        reset = _number(lowered.get(name, ""))
        if reset is not None:
            return max(0.0, reset - now if reset > _EPOCH_THRESHOLD else reset)
    return DEFAULT_RETRY_AFTER


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def _json_body(response: httpx.Response) -> dict[str, object]:
    try:
        body = json.loads(response.content or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
