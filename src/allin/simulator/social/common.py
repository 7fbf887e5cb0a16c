"""What the social-platform simulators share: a movable clock, authorization codes, PKCE,
token minting, redirect-URI matching, consent decisions, counters and switchable faults.
Response formats stay in each platform's package: they differ on purpose."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from allin.core.clock import Clock, clock
from allin.core.config import social_callback_path

_LOOPBACK = ("localhost", "127.0.0.1", "::1")


class ManualClock(Clock):
    """The project clock, shifted by whatever tests add: tokens expire without sleeping."""

    def __init__(self, base: Clock = clock) -> None:
        self.base = base
        self.offset = 0.0

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.base.now().timestamp() + self.offset, UTC)

    def monotonic(self) -> float:
        return self.base.monotonic() + self.offset


def unix(now: Clock) -> float:
    return now.now().timestamp()


def mint(prefix: str = "", size: int = 32) -> str:
    return prefix + secrets.token_urlsafe(size)


def snowflake(now: Clock) -> str:
    """A numeric id of at most 19 digits, time-ordered like X's and LinkedIn's activity ids."""
    millis = int(unix(now) * 1000) - 1_288_834_974_657
    return str((millis << 22) | secrets.randbelow(1 << 22))


def pkce_matches(verifier: str, challenge: str, method: str) -> bool:
    """RFC 7636 §4.6: S256 compares BASE64URL(SHA256(verifier)) without padding."""
    if not 43 <= len(verifier) <= 128:
        return False
    if method == "plain":
        return hmac.compare_digest(verifier, challenge)
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(expected, challenge)


def loopback_callback(platform: str) -> str:
    """The app's callback for `platform` on any loopback port: the redirect URI a simulated
    app registers unless told otherwise, so a local AllIN connects without set-up."""
    return "http://127.0.0.1:*" + social_callback_path(platform)


def redirect_uri_allowed(registered: list[str], uri: str) -> bool:
    """Exact match, or a registered loopback URI whose port is `*` (any port, as a desktop
    app on 127.0.0.1 picks one): the platforms match registered callbacks exactly."""
    for pattern in registered:
        if pattern == uri:
            return True
        if ":*" in pattern:
            want, got = urlsplit(pattern.replace(":*", ":1")), urlsplit(uri)
            if (
                got.hostname in _LOOPBACK
                and (want.hostname, want.scheme, want.path, want.query)
                == (got.hostname, got.scheme, got.path, got.query)
                and got.port is not None
            ):
                return True
    return False


def redirect(uri: str, **params: str) -> RedirectResponse:
    joiner = "&" if "?" in uri else "?"
    return RedirectResponse(f"{uri}{joiner}{urlencode(params)}", status_code=302)


@dataclass(slots=True)
class AuthCode:
    code: str
    user_id: str
    scopes: tuple[str, ...]
    redirect_uri: str
    expires_at: float
    challenge: str | None = None
    challenge_method: str = "S256"
    used: bool = False


class CodeStore:
    """Single-use authorization codes with a lifetime."""

    def __init__(self, now: Clock) -> None:
        self._now = now
        self._codes: dict[str, AuthCode] = {}

    def issue(
        self,
        user_id: str,
        scopes: tuple[str, ...],
        redirect_uri: str,
        ttl: float,
        challenge: str | None = None,
        method: str = "S256",
    ) -> str:
        code = mint(size=24)
        self._codes[code] = AuthCode(
            code, user_id, scopes, redirect_uri, unix(self._now) + ttl, challenge, method
        )
        return code

    def redeem(self, code: str) -> AuthCode | None:
        """The code if it is known, unused and alive; it is spent either way."""
        found = self._codes.get(code)
        if found is None or found.used:
            return None
        found.used = True
        if unix(self._now) >= found.expires_at:
            return None
        return found


@dataclass(slots=True)
class ConsentChoice:
    approve: bool
    user: str | None  # id or handle of the account that signs in; None = the default one


def consent_choice(request: Request, deny_all: bool) -> ConsentChoice:
    """The consent screen approves at once. A test denies with the simulator's `deny_consent`
    switch or per request with `sim_decision=deny`, and picks the account with `sim_user=`."""
    query = request.query_params
    deny = deny_all or query.get("sim_decision") == "deny"
    return ConsentChoice(approve=not deny, user=query.get("sim_user"))


FaultKind = Literal["error", "slow", "rate_limit", "usage_cap", "lost_response", "phantom_error"]


@dataclass(slots=True)
class Fault:
    """One switchable misbehaviour of an endpoint, for the next `times` calls.
    error: answer `status` (5xx) and do nothing; slow: wait `delay`, then behave;
    rate_limit / usage_cap: the platform's throttling answer;
    lost_response: do the work, then hold the answer `delay` seconds (past a client timeout);
    phantom_error: do the work, then answer with an error anyway."""

    kind: FaultKind
    times: int = 1
    status: int = 503
    delay: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)


class Faults:
    def __init__(self) -> None:
        self._queues: dict[str, deque[Fault]] = {}
        self.calls: dict[str, int] = {}

    def inject(
        self,
        endpoint: str,
        kind: FaultKind,
        *,
        times: int = 1,
        status: int = 503,
        delay: float = 0.0,
        **details: Any,
    ) -> None:
        self._queues.setdefault(endpoint, deque()).append(
            Fault(kind, times, status, delay, details)
        )

    def clear(self) -> None:
        self._queues.clear()

    def take(self, endpoint: str) -> Fault | None:
        self.calls[endpoint] = self.calls.get(endpoint, 0) + 1
        queue = self._queues.get(endpoint)
        if not queue:
            return None
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.popleft()
        return fault

    async def before(self, endpoint: str) -> Fault | None:
        """Waits out a `slow` fault; returns any other fault for the platform to act on."""
        fault = self.take(endpoint)
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            return None
        return fault


async def after_commit(fault: Fault | None) -> None:
    """A lost response: the work is done and recorded, the answer comes too late."""
    if fault is not None and fault.kind == "lost_response":
        await asyncio.sleep(fault.delay)


@dataclass(slots=True)
class Window:
    count: int
    reset_at: float


class FixedWindows:
    """Request counters per key in fixed windows that start at the first call (or on a
    boundary, when `align` is set, as LinkedIn's days reset at 00:00 UTC)."""

    def __init__(self, now: Clock) -> None:
        self._now = now
        self._windows: dict[tuple[str, ...], Window] = {}

    def peek(self, key: tuple[str, ...], length: float, align: bool = False) -> Window:
        now = unix(self._now)
        window = self._windows.get(key)
        if window is None or now >= window.reset_at:
            start = now - now % length if align else now
            window = Window(0, start + length)
            self._windows[key] = window
        return window

    def hit(self, key: tuple[str, ...], length: float, align: bool = False) -> Window:
        window = self.peek(key, length, align)
        window.count += 1
        return window


class SimFailure(Exception):
    """Raised in a handler; becomes exactly this status, JSON body and headers."""

    def __init__(
        self, status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


async def sim_failure_handler(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, SimFailure)
    if exc.body is None:
        return Response(b"", exc.status, headers=exc.headers or None)
    return JSONResponse(exc.body, exc.status, headers=exc.headers or None)


async def form_or_json(request: Request) -> dict[str, Any]:
    """Parameters of a request that may be a query, a form or a JSON object (Graph accepts all)."""
    params: dict[str, Any] = dict(request.query_params)
    ctype = request.headers.get("content-type", "")
    if "application/json" in ctype:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            params.update(body)
    elif "form" in ctype:
        form = await request.form()
        for key, value in form.multi_items():
            params[key] = value
    return params
