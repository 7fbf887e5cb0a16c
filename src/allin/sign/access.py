"""Who may call the sign routes, and how often: API keys, plans and quotas.

Callers without a key get ``sign_anonymous_limit`` per IP (1000/hour by default); a key
gets its owner's plan limit from ``sign_plan_limits`` (absent = unlimited).
Keys are read from ``x-api-key``, ``Authorization: Bearer`` or the ``apiKey`` query parameter.

Every answer of a sign route carries the rate headers both EulerStream clients read:
``X-RateLimit-Limit``, ``X-RateLimit-Remaining``, ``X-RateLimit-Reset``
(Unix time, read by TikTok-Live-Connector), ``RateLimit-Remaining`` and ``RateLimit-Reset``
(read by TikTokLive: on a 429 it takes ``RateLimit-Remaining`` as the seconds to wait and
``RateLimit-Reset`` as a Unix time, so that is what a 429 carries there), and 429s add
``Retry-After``.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from cachetools import TTLCache
from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from allin.auth.api_keys import authenticate_api_key, looks_like_api_key
from allin.auth.models import KeyScope
from allin.core.clientip import client_ip
from allin.core.clock import clock
from allin.core.config import Settings
from allin.core.ratelimit import RateLimiter
from allin.core.routing import RouteMethods
from allin.core.units import parse_limit
from allin.sign.responses import RATE_LIMITED, UNAUTHENTICATED, SignFailure
from allin.sign.usage import UsageRecorder

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

SIGN_PATHS = frozenset({"/api/eulerstream", "/api/signature", "/api/sign"})
SIGN_PREFIXES = ("/webcast/", "/tiktok/", "/accounts/me/")
# Asking how much quota is left does not spend any.
UNMETERED_PATHS = frozenset({"/webcast/rate_limits", "/accounts/me/rate_limits"})
SELFTEST_HEADER = "x-allin-selftest"
UNLIMITED = "unlimited"
SELFTEST_LIMIT = "1000/hour"


def is_sign_path(path: str) -> bool:
    return path in SIGN_PATHS or path.startswith(SIGN_PREFIXES)


@dataclass(frozen=True, slots=True)
class Caller:
    kind: Literal["anonymous", "key"]
    identity: str  # the client IP, or the key id
    limit: str | None  # a `limits` string; None = unlimited
    api_key_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    plan: str | None = None

    @property
    def scope(self) -> str:
        return f"sign:{'ip' if self.kind == 'anonymous' else 'key'}"


@dataclass(frozen=True, slots=True)
class Quota:
    """A caller's standing after (or without) this request."""

    allowed: bool
    limit: int | None  # None = unlimited
    remaining: int | None
    reset_at: int  # Unix time a slot frees up (unlimited: the end of the usage hour)
    retry_after: int  # seconds; 0 when allowed
    label: str  # the window: "minute", "hour", "day"...

    @classmethod
    def unlimited(cls) -> Quota:
        now = clock.now().timestamp()
        return cls(True, None, None, int(now // 3600 + 1) * 3600, 0, "hour")

    def headers(self) -> dict[str, str]:
        limit = UNLIMITED if self.limit is None else str(self.limit)
        remaining = UNLIMITED if self.remaining is None else str(self.remaining)
        headers = {
            "X-RateLimit-Limit": limit,
            "X-RateLimit-Remaining": remaining,
            "X-RateLimit-Reset": str(self.reset_at),
            "RateLimit-Limit": limit,
            "RateLimit-Remaining": remaining,
            "RateLimit-Reset": str(self.reset_at),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
            headers["RateLimit-Remaining"] = str(self.retry_after)  # TikTokLive's reading
        return headers


class AccessDenied(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class _KnownKey:
    api_key_id: uuid.UUID
    user_id: uuid.UUID
    plan: str


def extract_key(headers: Headers, query: QueryParams) -> str | None:
    """The API key from `x-api-key`, `Authorization: Bearer` or `?apiKey=`, in that order."""
    value = headers.get("x-api-key")
    if not value:
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        value = credentials.strip() if scheme.lower() == "bearer" else None
    return (value or query.get("apiKey") or "").strip() or None


_UNKNOWN: Any = object()


class KeyDirectory:
    """API key lookups, remembered for ``ttl`` seconds so the hot path rarely touches the
    database (a revoked key stops working within ``ttl``)."""

    MAX_KEYS = 10_000

    def __init__(self, factory: Callable[[], async_sessionmaker[AsyncSession]], ttl: float):
        self._factory = factory
        self.ttl = ttl
        self._known: TTLCache[str, _KnownKey | None] = TTLCache(
            self.MAX_KEYS, max(ttl, 0.001), timer=lambda: clock.monotonic()
        )

    async def lookup(self, raw_key: str) -> _KnownKey | None:
        digest = hashlib.sha256(raw_key.encode()).hexdigest()
        cached: _KnownKey | None = self._known.get(digest, _UNKNOWN)
        if cached is not _UNKNOWN:
            return cached
        found = await self._load(raw_key)
        if self.ttl > 0:
            self._known[digest] = found
        return found

    async def _load(self, raw_key: str) -> _KnownKey | None:
        if not looks_like_api_key(raw_key):
            return None
        async with self._factory()() as session:
            key = await authenticate_api_key(session, raw_key)
            if key is not None and KeyScope.SIGN.value not in (key.scopes or ()):
                key = None  # a key made without the sign scope is no key here
            found = _KnownKey(key.id, key.user_id, key.user.plan) if key is not None else None
            await session.commit()  # authenticate_api_key records last use
        return found

    def forget(self) -> None:
        self._known.clear()


class SignAccess:
    def __init__(
        self,
        settings: Settings,
        limiter: RateLimiter,
        keys: KeyDirectory,
        usage: UsageRecorder,
        selftest_tokens: Callable[[], set[str]],
    ) -> None:
        self.settings = settings
        self.limiter = limiter
        self.keys = keys
        self.usage = usage
        self._selftest_tokens = selftest_tokens

    async def identify(self, headers: Headers, query: QueryParams, client_ip: str) -> Caller:
        token = headers.get(SELFTEST_HEADER)
        if token and token in self._selftest_tokens():
            # The compatibility self-test: a bucket of its own per run, spending nobody's quota.
            return Caller("anonymous", f"selftest:{token}", SELFTEST_LIMIT)
        raw_key = extract_key(headers, query)
        if raw_key is None:
            if self.settings.sign_require_api_key:
                raise AccessDenied("An API key is required (x-api-key, Bearer or apiKey)")
            return Caller("anonymous", client_ip, self.settings.sign_anonymous_limit)
        known = await self.keys.lookup(raw_key)
        if known is None:
            raise AccessDenied("API key invalid, expired or revoked")
        return Caller(
            "key",
            str(known.api_key_id),
            self.settings.sign_plan_limits.get(known.plan),
            api_key_id=known.api_key_id,
            user_id=known.user_id,
            plan=known.plan,
        )

    async def quota(self, caller: Caller, *, spend: bool) -> Quota:
        if caller.limit is None:
            return Quota.unlimited()
        if spend:
            result = await self.limiter.hit(caller.scope, caller.identity, caller.limit)
        else:
            result = await self.limiter.test(caller.scope, caller.identity, caller.limit)
        item = parse_limit(caller.limit)
        reset_at = math.ceil(result.reset_at)
        if result.remaining >= result.limit and not spend:
            reset_at = math.ceil(
                clock.now().timestamp()
            )  # nothing spent: the whole window is free now
        return Quota(
            allowed=result.allowed,
            limit=result.limit,
            remaining=result.remaining,
            reset_at=reset_at,
            retry_after=result.retry_after,
            label=item.GRANULARITY.name,
        )


FastRoute = Callable[[bytes], Awaitable[tuple[int, dict[str, Any]]]]


class SignAccessMiddleware:
    """Applies keys and quotas to every sign route (ours and the fetch routes), records
    usage, and adds the rate headers to whatever the route answers.

    ``fast_routes`` (path -> handler of a raw JSON body) are answered here, without routing:
    the EulerStream sign routes are the hot path (the same handler serves their FastAPI routes)."""

    def __init__(
        self,
        app: ASGIApp,
        access: Callable[[], SignAccess | None],
        fast_routes: dict[str, FastRoute] | None = None,
    ) -> None:
        self.app = app
        self.access = access
        self.fast_routes = fast_routes or {}
        self.routes: RouteMethods | None = None

    def _routes(self, scope: Scope) -> RouteMethods:
        """The sign routes of the app serving the request (Starlette puts it in the scope)."""
        if self.routes is None:
            app = scope["app"]
            self.routes = RouteMethods(lambda: app.routes, where=is_sign_path)
        return self.routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        access = self.access()
        if (
            scope["type"] != "http"
            or access is None
            or not is_sign_path(scope["path"])
            # Only what a sign route takes is metered: a wrong method or path gets the router's
            # 405 or 404, not a quota spent or a key asked for.
            or not self._routes(scope).accepts(scope["method"], scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        headers, query = Headers(scope=scope), QueryParams(scope.get("query_string", b""))
        try:
            caller = await access.identify(headers, query, client_ip(scope))
        except AccessDenied as exc:
            denied = SignFailure(401, UNAUTHENTICATED, exc.message)
            await denied.response()(scope, receive, send)
            return
        metered = scope["path"] not in UNMETERED_PATHS
        quota = await access.quota(caller, spend=metered)
        if not metered:  # asking what is left is always answered
            quota = replace(quota, allowed=True, retry_after=0)
        if caller.api_key_id is not None:
            access.usage.record(caller.api_key_id, limited=not quota.allowed)
        if not quota.allowed:
            limited = SignFailure(
                429,
                RATE_LIMITED,
                f"{RATE_LIMITED}: {quota.limit} requests per {quota.label}; "
                f"try again in {quota.retry_after}s",
                headers=quota.headers(),
                limit_label=quota.label,
            )
            await limited.response()(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["sign_caller"], state["sign_quota"] = caller, quota
        extra = [(k.lower().encode(), v.encode()) for k, v in quota.headers().items()]
        fast = self.fast_routes.get(scope["path"]) if scope["method"] == "POST" else None
        if fast is not None and _json_or_empty(headers):
            body = await _read_body(receive)
            if body is not None:
                status, payload = await fast(body)
                await _send_json(send, status, payload, extra)
            return

        async def send_with_quota(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_quota)


def _json_or_empty(headers: Headers) -> bool:
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type in ("", "application/json")


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None when the client went away."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send_json(
    send: Send, status: int, payload: dict[str, Any], extra: list[tuple[bytes, bytes]]
) -> None:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
