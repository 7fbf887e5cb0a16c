"""The upstream signer: forward to other EulerStream-compatible providers (fallback
endpoints), each with its own key, in the configured order, failing over to the
next one on any error (unreachable, timeout, 429, 5xx, refused key, unusable answer)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from allin.core.http import create_http_client
from allin.core.logging import Category, get_logger
from allin.core.text import is_ascii_digits
from allin.sign.algorithm.signer import DEFAULT_USER_AGENT, SIGNATURE_PARAMS
from allin.sign.algorithm.ttparams import x_tt_params
from allin.sign.algorithm.urls import validate_tiktok_url
from allin.sign.fetch import SESSION_COOKIE, FetchedWebcast, FetchError, FetchQuery, WebcastFetcher
from allin.sign.signers import SignedUrl, SignerUnavailable

log = get_logger(Category.SIGN)
CLIENT_NAME = "allin"


@dataclass(frozen=True, slots=True)
class Provider:
    url: str
    api_key: str | None = None

    @property
    def base(self) -> str:
        return self.url.rstrip("/")

    def headers(self) -> dict[str, str]:
        return {"x-api-key": self.api_key} if self.api_key else {}


class ProviderFailed(Exception):
    """One provider's failure; the next provider is tried."""


class UpstreamPool:
    """The providers and the one HTTP client they share."""

    def __init__(
        self, providers: Sequence[Provider], *, timeout: float = 10.0, verify: bool | str = True
    ) -> None:
        if not providers:
            raise ValueError(
                "the upstream signer needs at least one provider (ALLIN_SIGN_UPSTREAMS)"
            )
        self.providers = tuple(providers)
        self.http = create_http_client(timeout=timeout, verify=verify)

    async def close(self) -> None:
        await self.http.aclose()

    async def first_success(self, attempt: Callable[[Provider], Any], what: str) -> Any:
        failures: list[str] = []
        for provider in self.providers:
            try:
                return await attempt(provider)
            except ProviderFailed as exc:
                failures.append(f"{provider.base}: {exc}")
            except httpx.HTTPError as exc:
                failures.append(f"{provider.base}: {type(exc).__name__}")
            log.warning("upstream provider failed", provider=provider.base, what=what)
        detail = "; ".join(failures)
        raise SignerUnavailable(f"Every upstream provider failed ({detail})")

    async def reachable(self) -> bool:
        """At least one provider answers its rate-limit route (a cheap, unmetered call)."""
        for provider in self.providers:
            try:
                response = await self.http.get(
                    f"{provider.base}/webcast/rate_limits", headers=provider.headers(), timeout=2.0
                )
            except httpx.HTTPError:
                continue
            if response.status_code == 200:
                return True
        return False


def _answer(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise ProviderFailed(f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderFailed("answer is not JSON") from exc
    inner = body.get("response") if isinstance(body, dict) else None
    if not isinstance(inner, dict):
        raise ProviderFailed("answer has no `response` object")
    return inner


def signed_url_from(answer: dict[str, Any], user_agent: str) -> SignedUrl:
    """Euler's `response` object as our SignedUrl; missing tokens are read off the URL."""
    signed = answer.get("signedUrl")
    if not isinstance(signed, str) or "msToken=" not in signed:
        raise ProviderFailed("signedUrl is missing or carries no msToken")
    query = dict(parse_qsl(urlsplit(signed).query, keep_blank_values=True))
    tokens = answer.get("tokens") if isinstance(answer.get("tokens"), dict) else {}
    assert isinstance(tokens, dict)
    x_bogus = str(tokens.get("X-Bogus") or query.get("X-Bogus", ""))
    ms_token = str(tokens.get("msToken") or query.get("msToken", ""))
    params = {k: v for k, v in query.items() if k not in SIGNATURE_PARAMS}
    return SignedUrl(
        signed_url=signed,
        x_bogus=x_bogus,
        ms_token=ms_token,
        x_tt_params=str(tokens.get("x-tt-params") or x_tt_params(params)),
        user_agent=str(answer.get("userAgent") or user_agent),
        signature=str(tokens.get("_signature") or x_bogus),
    )


class UpstreamSigner:
    name: str = "upstream"

    def __init__(self, pool: UpstreamPool) -> None:
        self.pool = pool

    async def ready(self) -> bool:
        return await self.pool.reachable()

    async def sign_url(
        self,
        url: str,
        *,
        user_agent: str | None = None,
        now: Callable[[], float] | None = None,
    ) -> SignedUrl:
        validate_tiktok_url(url)
        agent = user_agent or DEFAULT_USER_AGENT

        async def attempt(provider: Provider) -> SignedUrl:
            response = await self.pool.http.post(
                f"{provider.base}/webcast/sign_url",
                params={"client": CLIENT_NAME},
                json={"url": url, "userAgent": agent, "method": "GET"},
                headers=provider.headers(),
            )
            return signed_url_from(_answer(response), agent)

        result: SignedUrl = await self.pool.first_success(attempt, "sign_url")
        return result


def _tt_cookies(header: str) -> tuple[tuple[str, str], ...]:
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return ()
    pairs = [(name, morsel.value) for name, morsel in jar.items() if morsel.value]
    return tuple(sorted(pairs, key=lambda kv: kv[0] != SESSION_COOKIE))


class UpstreamWebcastFetcher(WebcastFetcher):
    """`/webcast/fetch` relayed from the first provider that delivers a usable answer."""

    def __init__(self, pool: UpstreamPool) -> None:
        super().__init__(webcast_url="", timeout=10.0)
        self.pool = pool

    async def fetch(self, query: FetchQuery) -> FetchedWebcast:
        params = {
            "client": CLIENT_NAME,
            "user_agent": query.user_agent,
            "cursor": query.cursor,
            "client_enter": "true" if query.client_enter else "false",
        }
        if query.room_id:
            params["room_id"] = str(query.room_id)
        if query.unique_id:
            params["unique_id"] = query.unique_id

        async def attempt(provider: Provider) -> FetchedWebcast:
            response = await self.pool.http.get(
                f"{provider.base}/webcast/fetch", params=params, headers=provider.headers()
            )
            if response.status_code != 200:
                raise ProviderFailed(f"HTTP {response.status_code}")
            if not response.content:
                raise ProviderFailed("empty payload")
            cookies = _tt_cookies(response.headers.get("x-set-tt-cookie", ""))
            if not cookies:
                raise ProviderFailed("no X-Set-TT-Cookie")
            raw_room = response.headers.get("x-room-id", "")
            room_id = int(raw_room) if is_ascii_digits(raw_room) else (query.room_id or 0)
            return FetchedWebcast(response.content, cookies, room_id)

        try:
            result: FetchedWebcast = await self.pool.first_success(attempt, "fetch")
        except SignerUnavailable as exc:
            raise FetchError(503, exc.message) from exc
        return result
