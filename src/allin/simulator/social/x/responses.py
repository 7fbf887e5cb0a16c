"""X API v2 answers: RFC 7807-style problem bodies, the bearer/scope guard and the
x-rate-limit-* headers every answer carries."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from allin.simulator.social.common import Fault, SimFailure
from allin.simulator.social.x.state import Grant, XState

WINDOW = 900.0  # X's rate-limit windows are 15 minutes
DAY = 86_400.0


def _epoch(moment: float) -> str:
    """A reset time in whole Unix seconds, rounded up: a client that waits until the second
    the header names finds the window reset."""
    return str(math.ceil(moment))


def state_of(request: Request) -> XState:
    state: XState = request.app.state.sim
    return state


def problem(
    state: XState, status: int, title: str, detail: str, kind: str | None = None, **extra: Any
) -> dict[str, Any]:
    kind_url = f"{state.config.problem_host}/2/problems/{kind}" if kind else "about:blank"
    return {"title": title, "detail": detail, "type": kind_url, "status": status, **extra}


def unauthorized(state: XState) -> SimFailure:
    return SimFailure(401, problem(state, 401, "Unauthorized", "Unauthorized"))


def forbidden(
    state: XState, detail: str = "Forbidden", headers: dict[str, str] | None = None
) -> SimFailure:
    return SimFailure(403, problem(state, 403, "Forbidden", detail), headers)


def invalid_request(
    state: XState,
    message: str,
    parameters: dict[str, list[str]],
    headers: dict[str, str] | None = None,
) -> SimFailure:
    body = {
        "errors": [{"parameters": parameters, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": f"{state.config.problem_host}/2/problems/invalid-request",
    }
    return SimFailure(400, body, headers)


@dataclass(slots=True)
class Caller:
    user_id: str
    grant: Grant
    headers: dict[str, str] = field(default_factory=dict)


def fault_failure(state: XState, fault: Fault, headers: dict[str, str]) -> SimFailure | None:
    if fault.kind == "error":
        return SimFailure(
            fault.status,
            problem(state, fault.status, "Service Unavailable", "Service Unavailable"),
            headers,
        )
    if fault.kind == "rate_limit":
        return too_many(state, headers)
    if fault.kind == "usage_cap":
        return usage_capped(state, headers)
    return None


def too_many(state: XState, headers: dict[str, str]) -> SimFailure:
    headers = {**headers, "x-rate-limit-remaining": "0"}
    return SimFailure(429, problem(state, 429, "Too Many Requests", "Too Many Requests"), headers)


def usage_capped(state: XState, headers: dict[str, str]) -> SimFailure:
    body = problem(
        state,
        429,
        "UsageCapExceeded",
        "Usage cap exceeded: Monthly product cap",
        "usage-capped",
        period="Monthly",
        scope="Product",
    )
    return SimFailure(429, body, headers)


def _limit_headers(state: XState, endpoint: str, user_id: str) -> tuple[dict[str, str], bool]:
    """Counts the call; returns the headers and whether a limit is exceeded."""
    config, over = state.config, False
    headers: dict[str, str] = {}
    limit = config.user_limits.get(endpoint)
    if limit is not None:
        window = state.windows.hit((endpoint, user_id), WINDOW)
        over = window.count > limit
        headers = {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(max(0, limit - window.count)),
            "x-rate-limit-reset": _epoch(window.reset_at),
        }
    if endpoint in config.app_limits:
        app_limit, length = config.app_limits[endpoint]
        day = state.windows.hit((endpoint, "app"), length)
        over = over or day.count > app_limit
        if endpoint == "tweets.create":
            user_day = state.windows.hit((endpoint, "user-day", user_id), DAY)
            user_cap = config.user_daily_post_limit
            over = over or user_day.count > user_cap
            headers |= {
                "x-user-limit-24hour-limit": str(user_cap),
                "x-user-limit-24hour-remaining": str(max(0, user_cap - user_day.count)),
                "x-user-limit-24hour-reset": _epoch(user_day.reset_at),
                "x-app-limit-24hour-limit": str(app_limit),
                "x-app-limit-24hour-remaining": str(max(0, app_limit - day.count)),
                "x-app-limit-24hour-reset": _epoch(day.reset_at),
            }
    return headers, over


async def guard(
    request: Request, endpoint: str, scopes: tuple[str, ...]
) -> tuple[Caller, Fault | None]:
    """Bearer token, injected faults, rate limits and scopes, in the order X applies them."""
    state = state_of(request)
    fault = await state.faults.before(endpoint)
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise unauthorized(state)
    if value == state.config.app_bearer_token:
        raise SimFailure(
            403,
            problem(
                state,
                403,
                "Unsupported Authentication",
                "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  "
                "Supported authentication types are [OAuth 1.0a User Context, "
                "OAuth 2.0 User Context].",
                "unsupported-authentication",
            ),
        )
    token = state.access.get(value)
    if token is None or token.grant.revoked or state.now() >= token.expires_at:
        raise unauthorized(state)
    headers, over = _limit_headers(state, endpoint, token.grant.user_id)
    if fault is not None:
        failure = fault_failure(state, fault, headers)
        if failure is not None:
            raise failure
    if state.usage_capped:
        raise usage_capped(state, headers)
    if over:
        raise too_many(state, headers)
    if not set(scopes) <= set(token.grant.scopes):
        raise forbidden(state, headers=headers)
    return Caller(token.grant.user_id, token.grant, headers), fault


def answer(caller: Caller, body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status, headers=caller.headers)
