"""`POST /api/test/compatibility`: real checks against this very server.

The suite starts a simulated TikTok on loopback for the fetch round trip (the app provides a
`SimulatedTikTok`; this server's fetch routes are pointed at it for the suite's own requests
only, through a one-time token),
then calls this server over HTTP exactly as the two EulerStream clients do and reports each
check: the sign routes, Euler's sign_url (JSON and form), the rate-limit headers and
routes, both fetch routes, and a WebSocket opened with what the fetch returned.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from allin.core.clientip import client_ip
from allin.core.clock import clock
from allin.core.domain import app_state
from allin.core.ratelimit import rate_limiter
from allin.core.units import parse_limit
from allin.live.connection import LiveConnection
from allin.live.protocol import FetchResult, decode_fetch_result
from allin.live.web import DEFAULT_USER_AGENT, BrowserProfile
from allin.sign.access import SELFTEST_HEADER
from allin.sign.bodies import BadBody, CompatibilityBody, parse_body, request_body
from allin.sign.responses import RATE_LIMITED, SignFailure, documented
from allin.sign.service import SignService, TikTokHosts

router = APIRouter(tags=["sign: self-service"])
SUITE = "eulerstream_compatibility"
SAMPLE_URL = "https://www.tiktok.com/@testuser/live"
RATE_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit-Remaining",
    "RateLimit-Reset",
)


class CheckFailed(Exception):
    pass


class Skipped(Exception):
    pass


def require(condition: object, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


@dataclass(frozen=True, slots=True)
class SimulatedRoom:
    """A simulated TikTok's hosts and one streamer who is live there."""

    hosts: TikTokHosts
    streamer: str
    room_id: int


@dataclass(frozen=True, slots=True)
class SimulatedTikTok:
    """Starts a simulated TikTok for one run of the suite (the app provides it)."""

    start: Callable[[], AbstractAsyncContextManager[SimulatedRoom]]


@dataclass
class Context:
    http: httpx.AsyncClient
    room_id: int
    mode: str
    streamer: str
    fetched: FetchResult | None = None
    cookie: str = ""


Check = Callable[[Context], Awaitable[str]]


async def check_health(ctx: Context) -> str:
    body = (await ctx.http.get("/api/health")).json()
    require(body.get("signature_generator_ready") is True, "signature_generator_ready is not true")
    require(body.get("database_connected") is True, "database_connected is not true")
    return f"status {body.get('status')}, signer {body.get('services', {}).get('signer')}"


async def _signed(ctx: Context, path: str) -> httpx.Response:
    response = await ctx.http.post(path, json={"url": SAMPLE_URL})
    body = response.json()
    require(response.status_code == 200 and body.get("success") is True, f"{path}: {body}")
    for name in ("signature", "signed_url", "X-Bogus", "x-tt-params"):
        require(body["data"].get(name), f"{path}: data.{name} is missing")
    return response


async def check_euler_sign(ctx: Context) -> str:
    for path in ("/api/eulerstream", "/api/signature", "/api/sign"):
        await _signed(ctx, path)
    return "success, data.signature, signed_url, X-Bogus, x-tt-params on all three routes"


async def check_invalid_url(ctx: Context) -> str:
    response = await ctx.http.post("/api/eulerstream", json={"url": "https://example.com/x"})
    body = response.json()
    require(response.status_code == 400, f"expected 400, got {response.status_code}")
    require(body.get("error") == "Invalid TikTok URL", f"error is {body.get('error')!r}")
    return "non-TikTok URL refused with 400 Invalid TikTok URL"


def _sign_url_fields(response: httpx.Response) -> None:
    require(response.status_code == 200, f"HTTP {response.status_code}: {response.text[:200]}")
    inner = response.json().get("response") or {}
    require("msToken=" in str(inner.get("signedUrl", "")), "response.signedUrl has no msToken")
    require(inner.get("tokens"), "response.tokens is empty")
    require(inner.get("userAgent"), "response.userAgent is missing")


async def check_sign_url(ctx: Context) -> str:
    body = {"url": SAMPLE_URL, "userAgent": DEFAULT_USER_AGENT, "method": "GET", "type": "fetch"}
    _sign_url_fields(await ctx.http.post("/webcast/sign_url?client=ttlive-other", json=body))
    _sign_url_fields(await ctx.http.post("/webcast/sign_url/", data=body))
    _sign_url_fields(await ctx.http.post("/tiktok/sign_url?client=ttlive-node", json=body))
    return "v1 JSON, v1 form (6.x), v2: signedUrl with msToken, tokens, userAgent"


async def check_rate_limit_headers(ctx: Context) -> str:
    response = await ctx.http.post("/api/eulerstream", json={"url": SAMPLE_URL})
    missing = [name for name in RATE_HEADERS if name not in response.headers]
    require(not missing, f"missing headers: {', '.join(missing)}")
    limits = await ctx.http.get("/webcast/rate_limits")
    body = limits.json()
    require(limits.status_code == 200 and body.get("code") == 200, "/webcast/rate_limits failed")
    window = body.get(body.get("limit_label", "hour")) or {}
    require("max" in window and "remaining" in window, "/webcast/rate_limits has no window")
    v2 = await ctx.http.get("/accounts/me/rate_limits", params={"type": "WEBCAST"})
    require(v2.status_code == 200, "/accounts/me/rate_limits failed")
    shown = {name: response.headers[name] for name in RATE_HEADERS}
    return ", ".join(f"{k}: {v}" for k, v in shown.items())


def _fetch_answer(response: httpx.Response, route: str) -> tuple[FetchResult, str]:
    status = response.status_code
    require(status == 200, f"{route}: HTTP {status} {response.text[:200]}")
    cookie = response.headers.get("x-set-tt-cookie", "")
    require(cookie.startswith("ttwid="), f"{route}: X-Set-TT-Cookie does not start with ttwid=")
    result = decode_fetch_result(response.content)
    require(not result.error, f"{route}: body is not a ProtoMessageFetchResult ({result.error})")
    require(result.cursor and result.push_server, f"{route}: no cursor or push_server")
    require(any(result.route_params.values()), f"{route}: no route_params")
    require(result.is_first, f"{route}: is_first is not set")
    return result, cookie.split(";")[0]


def _fetch_params(ctx: Context) -> dict[str, str]:
    return {
        "client": "ttlive-python",
        "user_agent": DEFAULT_USER_AGENT,
        "client_enter": "true",
        "platform": "web",
        "unique_id": ctx.streamer,  # lets the browser signer open the streamer's page
    }


async def check_fetch_v1(ctx: Context) -> str:
    if ctx.mode == "upstream":
        raise Skipped("the upstream signer relays fetches to its providers, not to a simulator")
    params = {**_fetch_params(ctx), "room_id": str(ctx.room_id)}
    response = await ctx.http.get("/webcast/fetch", params=params)
    ctx.fetched, ctx.cookie = _fetch_answer(response, "v1")  # the WebSocket check uses them
    return f"protobuf with cursor, push_server, route_params, is_first; {ctx.cookie[:12]}..."


async def check_fetch_v2(ctx: Context) -> str:
    if ctx.mode == "upstream":
        raise Skipped("the upstream signer relays fetches to its providers, not to a simulator")
    path = f"/webcast/rooms/{ctx.room_id}/connect"
    params = {**_fetch_params(ctx), "client": "ttlive-node", "cursor": ""}
    _fetch_answer(await ctx.http.get(path, params=params), "v2")
    return "protobuf with cursor, push_server, route_params, is_first"


async def check_websocket(ctx: Context) -> str:
    if ctx.fetched is None:
        raise Skipped("no fetch result to connect with")
    conn = LiveConnection(ctx.room_id, profile=BrowserProfile(user_agent=DEFAULT_USER_AGENT))
    conn.accept_fetch(ctx.fetched)
    async with connect(
        conn.websocket_url(),
        additional_headers={"Cookie": ctx.cookie},
        user_agent_header=DEFAULT_USER_AGENT,
        subprotocols=[Subprotocol("echo-protocol")],
        ping_interval=None,
        open_timeout=5,
    ) as ws:
        await ws.send(conn.opened())
        async with asyncio.timeout(5):
            while True:
                data = await ws.recv()
                if isinstance(data, bytes) and conn.receive(data).events:
                    return "WebSocket opened with the fetch's route_params and cookie; events flow"


CHECKS: tuple[tuple[str, Check], ...] = (
    ("health", check_health),
    ("euler_sign_routes", check_euler_sign),
    ("invalid_url", check_invalid_url),
    ("sign_url_fields", check_sign_url),
    ("rate_limit_headers", check_rate_limit_headers),
    ("fetch_round_trip_v1", check_fetch_v1),
    ("fetch_round_trip_v2", check_fetch_v2),
    ("websocket", check_websocket),
)


async def run_check(name: str, check: Check, ctx: Context) -> dict[str, Any]:
    started = clock.monotonic()
    try:
        async with asyncio.timeout(30):
            detail, status = await check(ctx), "passed"
    except Skipped as exc:
        detail, status = str(exc), "skipped"
    except CheckFailed as exc:
        detail, status = str(exc), "failed"
    except Exception as exc:  # a crash is a failed check, reported, not a 500
        detail, status = f"{type(exc).__name__}: {exc}", "failed"
    elapsed = round((clock.monotonic() - started) * 1000, 1)
    return {"name": name, "status": status, "duration_ms": elapsed, "detail": detail}


def own_base_url(request: Request) -> str:
    """This server as the socket the request came in on (never the Host header)."""
    host, port = request.scope["server"]
    shown = f"[{host}]" if ":" in host else host
    return f"{request.url.scheme}://{shown}:{port}"


async def run_suite(
    service: SignService, simulated: SimulatedTikTok, base_url: str
) -> list[dict[str, Any]]:
    async with (
        simulated.start() as room,
        service.selftest_hosts(room.hosts) as token,
        httpx.AsyncClient(base_url=base_url, headers={SELFTEST_HEADER: token}, timeout=30) as http,
    ):
        ctx = Context(http, room.room_id, service.mode, room.streamer)
        return [await run_check(name, check, ctx) for name, check in CHECKS]


@router.post(
    "/api/test/compatibility",
    summary="Run the EulerStream compatibility suite against this server",
    responses=documented(400, 429),
    openapi_extra=request_body(CompatibilityBody, required=False),
)
async def compatibility(request: Request) -> JSONResponse:
    state = app_state(request.app)
    service = state.get(SignService)
    settings = service.settings
    try:
        await parse_body(request, CompatibilityBody)  # only the one suite exists
    except BadBody as exc:
        raise SignFailure(400, "Unknown test suite", f"{exc.message} (known: {SUITE})") from exc
    limited = await rate_limiter(request.app).hit(
        "sign:selftest", client_ip(request.scope), settings.sign_selftest_limit
    )
    if not limited.allowed:
        headers = {**limited.headers(), "Retry-After": str(limited.retry_after)}
        label = parse_limit(settings.sign_selftest_limit).GRANULARITY.name
        raise SignFailure(429, RATE_LIMITED, headers=headers, limit_label=label)
    async with service.selftest_lock:  # one run at a time: each starts a simulator
        results = await run_suite(service, state.get(SimulatedTikTok), own_base_url(request))
    counts = {s: sum(r["status"] == s for r in results) for s in ("passed", "failed", "skipped")}
    return JSONResponse(
        {
            "success": True,
            "testSuite": SUITE,
            "passed": counts["failed"] == 0,
            "signer": service.mode,
            "summary": {"total": len(results), **counts},
            "results": results,
        }
    )
