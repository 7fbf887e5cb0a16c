"""What Facebook Pages and Instagram share: Facebook Login (code -> short-lived user token ->
60-day token), the Pages a login manages with their Page tokens, the Graph API error table,
and the usage headers that say how long to wait.

Contracts: developers.facebook.com Facebook Login "get long-lived tokens", Graph API "error
handling" and "rate limiting", Pages API, Instagram content publishing.

Tokens never travel in a URL here: Graph reads them from the Authorization header, and the
client credentials of the token exchange go in a POST body, so no log line or proxy sees them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, ClassVar

import httpx

from allin.core.breaker import CircuitBreaker
from allin.core.retry import RetryPolicy
from allin.social.providers.base import (
    ErrorKind,
    LimitScope,
    Platform,
    ProviderConfig,
    SocialProvider,
    SocialProviderError,
    TokenSet,
)
from allin.social.providers.common import Sleep
from allin.social.providers.oauth import consent_url, token_set
from allin.social.providers.transport import Transport, json_body, retry_after

DEFAULT_VERSION = "v25.0"
DEFAULT_VIDEO_URL = "https://graph-video.facebook.com"

_AUTH_CODES = frozenset({190, 102})
_AUTH_SUBCODES = frozenset({458, 459, 460, 463, 464, 467, 492})
_RATE_CODES = frozenset({4, 17, 32, 341, 613, 80001, 80002, 80004, 80005, 80006, 80008, 80014})
_PLATFORM_WINDOW = 900.0
"""Platform limits count a rolling hour; without an estimate from Meta, wait a quarter of it."""
_DAY_WINDOW = 3_600.0
"""Instagram's publishing quota is a rolling 24 hours; look again in an hour."""
_APP_CODES = frozenset({4, 341})
"""Application request limit reached (platform rate limit; app-level limit)."""
_SPAM_SUBCODE = 2207051
"""Code 4 with this subcode is one Instagram account's activity restricted, not the app."""
_NOT_PUBLISHED_SUBCODES = frozenset({2207027, 2207008, 2207042, 2207020, 2207032})
"""Instagram answers that say for sure nothing was published."""


READ_BACK_PAGE = 100  # the Graph API's largest page of an account's posts
READ_BACK_PAGES = 10  # a thousand posts since an attempt is more than any account makes


def graph_error_fields(body: object) -> dict[str, Any]:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"]  # type: ignore[no-any-return]
    return {}


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def usage_wait(response: httpx.Response) -> float | None:
    """Seconds until access returns, from X-Business-Use-Case-Usage's
    `estimated_time_to_regain_access` (minutes), else a Retry-After header."""
    raw = response.headers.get("x-business-use-case-usage")
    minutes = 0
    if raw:
        try:
            usage = json.loads(raw)
        except ValueError:
            usage = {}
        for entries in usage.values() if isinstance(usage, dict) else []:
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    minutes = max(minutes, _int(entry.get("estimated_time_to_regain_access")) or 0)
    if minutes > 0:
        return minutes * 60.0
    return retry_after(response)


def app_usage_spent(response: httpx.Response) -> bool:
    """X-App-Usage (platform limits) at 100 % on any measure: the whole app is throttled."""
    try:
        usage = json.loads(response.headers.get("x-app-usage") or "{}")
    except ValueError:
        return False
    if not isinstance(usage, dict):
        return False
    return any((_int(value) or 0) >= 100 for value in usage.values())


def limit_scope(code: int | None, subcode: int | None, response: httpx.Response) -> LimitScope:
    """The app's own limits (codes 4 and 341, or X-App-Usage spent when no business use case
    applies: if both do, the business use case's wins) hold every account; the others (user
    17, Page 32, custom 613, business use case 80001+, Instagram's publishing quota) one."""
    if code in _APP_CODES and subcode != _SPAM_SUBCODE:
        return LimitScope.APP
    if "x-business-use-case-usage" not in response.headers and app_usage_spent(response):
        return LimitScope.APP
    return LimitScope.ACCOUNT


def classify_for(platform: Platform) -> Any:
    def classify(response: httpx.Response) -> SocialProviderError:
        return graph_error(platform, response)

    return classify


def graph_error(platform: Platform, response: httpx.Response) -> SocialProviderError:
    """A Graph API failure as one `ErrorKind`, by code and subcode (not by HTTP status: Graph
    answers most failures with 400)."""
    status = response.status_code
    error = graph_error_fields(json_body(response))
    code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    message = str(error.get("error_user_msg") or error.get("message") or response.reason_phrase)
    platform_code = None if code is None else str(code) if subcode is None else f"{code}/{subcode}"
    kind, wait = _kind(code, subcode, status, error, message)
    scope = None
    if kind is ErrorKind.RATE_LIMITED:
        wait = usage_wait(response) or wait
        scope = limit_scope(code, subcode, response)
    return SocialProviderError(
        message,
        kind=kind,
        platform=platform,
        platform_code=platform_code,
        platform_message=str(error.get("message") or message),
        retry_after=wait,
        http_status=status,
        scope=scope,
    )


def _kind(
    code: int | None, subcode: int | None, status: int, error: dict[str, Any], message: str
) -> tuple[ErrorKind, float | None]:
    if code is None:
        return (ErrorKind.TRANSIENT if status >= 500 else ErrorKind.REJECTED), None
    if code in _AUTH_CODES or subcode in _AUTH_SUBCODES:
        return ErrorKind.AUTH, None  # dead token: expired, password changed, app removed...
    if code == 10 or 200 <= code <= 299:
        return ErrorKind.AUTH, None  # a permission is missing or was declined
    if code in _RATE_CODES:
        return ErrorKind.RATE_LIMITED, _PLATFORM_WINDOW
    if code == 9 and subcode == 2207042:
        return ErrorKind.RATE_LIMITED, _DAY_WINDOW  # Instagram's daily publishing limit
    if code == 368:
        return ErrorKind.RATE_LIMITED, _DAY_WINDOW  # temporarily blocked for policy reasons
    if code in (101, 2635) or "client secret" in message.lower():
        return ErrorKind.CONFIG, None  # the app id or secret is wrong, or the version retired
    if code == 9007 or (code == -2 and subcode == 2207003) or subcode == 2207053:
        return ErrorKind.TRANSIENT, None  # not ready yet, download timed out: try again
    if subcode in (2207020, 2207032, 2207008):
        return ErrorKind.REJECTED, None  # the container is gone or failed: make a new one
    if code in (1, 2, -1, -2) or error.get("is_transient") is True or status >= 500:
        return ErrorKind.TRANSIENT, None
    return ErrorKind.REJECTED, None  # 100 invalid parameter, 506 duplicate, 36xxx media...


def outcome_unknown(error: SocialProviderError) -> bool:
    """After the publish call was sent, a transient answer may hide a success (Meta's 400
    that actually succeeded) unless its subcode says nothing was published."""
    if error.kind is not ErrorKind.TRANSIENT:
        return False
    subcode = _int((error.platform_code or "").partition("/")[2])
    return subcode not in _NOT_PUBLISHED_SUBCODES and not (error.platform_code or "").startswith(
        "9007"
    )


class MetaProvider(SocialProvider):
    """Facebook Login and the Graph transport; Facebook Pages and Instagram build on it."""

    uses_pkce: ClassVar[bool] = False
    can_refresh: ClassVar[bool] = True  # a valid 60-day token can be exchanged for a new one
    rotates_refresh_tokens: ClassVar[bool] = False
    default_scopes: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        config: ProviderConfig,
        *,
        timeout: float = 15.0,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Sleep = asyncio.sleep,
        processing_timeout: float = 300.0,
        poll_interval: float = 5.0,
        inline_wait: float = 30.0,
        upload_timeout: float = 120.0,
    ) -> None:
        super().__init__(config)
        self.version = config.extra.get("version", DEFAULT_VERSION)
        self.graph = f"{config.api_base_url.rstrip('/')}/{self.version}"
        video_host = config.extra.get("video_url", DEFAULT_VIDEO_URL).rstrip("/")
        self.video_graph = f"{video_host}/{self.version}"
        self.http = Transport(
            self.platform,
            classify_for(self.platform),
            timeout=timeout,
            retry=retry,
            breaker=breaker,
            ambiguous=outcome_unknown,
        )
        self.sleep = sleep
        self.processing_timeout = processing_timeout
        self.poll_interval = poll_interval
        self.inline_wait = inline_wait
        self.upload_timeout = upload_timeout

    async def aclose(self) -> None:
        await self.http.aclose()

    def authorization_url(self, state: str, code_challenge: str | None = None) -> str:
        params = {
            "client_id": self.config.client_id or "",
            "redirect_uri": self.config.redirect_uri,
            "state": state,
            "response_type": "code",
            "scope": ",".join(self.config.scopes or self.default_scopes),
        }
        base = self.config.auth_base_url.rstrip("/")
        return consent_url(f"{base}/{self.version}/dialog/oauth", params)

    def _credentials(self) -> dict[str, str]:
        return {
            "client_id": self.config.client_id or "",
            "client_secret": self.config.client_secret or "",
        }

    async def _token(self, form: dict[str, str]) -> TokenSet:
        response = await self.http.once(
            "POST",
            f"{self.graph}/oauth/access_token",
            data={**form, **self._credentials()},
            after_send=ErrorKind.TRANSIENT,
        )
        return token_set(response.json(), scope_separator=None)

    async def exchange_code(self, code: str, code_verifier: str | None = None) -> TokenSet:
        """The code gives a short-lived user token (about an hour), traded at once for a
        long-lived one (about 60 days)."""
        short = await self._token({"redirect_uri": self.config.redirect_uri, "code": code})
        return await self._long_lived(short.access_token)

    async def _long_lived(self, access_token: str) -> TokenSet:
        return await self._token(
            {"grant_type": "fb_exchange_token", "fb_exchange_token": access_token}
        )

    async def refresh(self, token: TokenSet) -> TokenSet:
        """Meta has no refresh token: a still-valid long-lived token is exchanged for a new
        one; an expired one cannot be, and the user logs in again (AUTH)."""
        return await self._long_lived(token.access_token)

    async def revoke(self, token: TokenSet) -> None:
        await self.http.safe(
            "DELETE", f"{self.graph}/me/permissions", headers=bearer(token.access_token)
        )

    async def rows(
        self, path: str, params: dict[str, str], token: str
    ) -> AsyncIterator[dict[str, Any]]:
        """Every row of a Graph edge, following the `after` cursor while there is a next page
        (at most READ_BACK_PAGES pages of READ_BACK_PAGE rows)."""
        params = {**params, "limit": str(READ_BACK_PAGE)}
        for _ in range(READ_BACK_PAGES):
            response = await self.http.safe(
                "GET", f"{self.graph}/{path}", params=params, headers=bearer(token)
            )
            body = response.json()
            for row in body.get("data") or []:
                if isinstance(row, dict):
                    yield row
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return
            params["after"] = str(after)

    async def pages(self, token: TokenSet) -> list[dict[str, Any]]:
        """The Pages the user manages, each with its own Page token (which does not expire)."""
        pages: list[dict[str, Any]] = []
        params = {"fields": "id,name,access_token,tasks,instagram_business_account", "limit": "100"}
        while True:
            response = await self.http.safe(
                "GET",
                f"{self.graph}/me/accounts",
                params=params,
                headers=bearer(token.access_token),
            )
            body = response.json()
            pages += [p for p in body.get("data") or [] if isinstance(p, dict)]
            paging = body.get("paging") if isinstance(body.get("paging"), dict) else {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return pages
            params = {**params, "after": str(after)}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def page_token(page: dict[str, Any]) -> TokenSet:
    return TokenSet(access_token=str(page["access_token"]), raw={"type": "PAGE"})


def unix(moment: datetime) -> str:
    return str(int(moment.timestamp()))
