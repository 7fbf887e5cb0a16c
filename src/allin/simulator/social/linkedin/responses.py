"""LinkedIn's error bodies (`status`, `serviceErrorCode`, `code`, `message`), the checks every
/rest call passes (LinkedIn-Version, bearer token, daily throttles) and injected faults."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from allin.simulator.social.common import Fault, SimFailure
from allin.simulator.social.linkedin.state import Grant, LinkedInState

DAY = 86_400.0
_VERSION = re.compile(r"^(\d{6})(\.\d{2})?$")


def state_of(request: Request) -> LinkedInState:
    state: LinkedInState = request.app.state.sim
    return state


def error(
    status: int, code: str | None, message: str, service_code: int | None = None, **extra: Any
) -> SimFailure:
    body: dict[str, Any] = {"status": status}
    if service_code is not None:
        body["serviceErrorCode"] = service_code
    if code is not None:
        body["code"] = code
    body["message"] = message
    body.update(extra)
    return SimFailure(status, body)


def input_error(status: int, path: str, code: str, description: str) -> SimFailure:
    """Validation failures name the field and an input-error code (e.g. DUPLICATE_POST)."""
    return SimFailure(
        status,
        {
            "errorDetailType": "com.linkedin.common.error.BadRequest",
            "message": f"ERROR :: {path} :: {description}\n",
            "errorDetails": {
                "inputErrors": [
                    {
                        "description": description,
                        "input": {"inputPath": {"fieldPath": path}},
                        "code": code,
                    }
                ]
            },
            "status": status,
        },
    )


def access_denied(resource: str) -> SimFailure:
    return error(403, "ACCESS_DENIED", f"Not enough permissions to access: {resource}", 100)


def fault_failure(fault: Fault | None) -> None:
    if fault is None:
        return
    if fault.kind == "error":
        raise error(fault.status, None, "Internal Server Error")
    if fault.kind in ("rate_limit", "usage_cap"):
        raise throttled()


def throttled(limit: str = "APPLICATION") -> SimFailure:
    """LinkedIn's 429 carries neither rate-limit headers nor Retry-After; its message names
    the spent daily limit: APPLICATION (the app's) or APPLICATION_AND_MEMBER (one member's
    calls through the app)."""
    return error(
        429,
        "TOO_MANY_REQUESTS",
        f"Resource level throttle {limit} DAY limit for calls to this resource is reached.",
        101,
    )


@dataclass(slots=True)
class Caller:
    member: str
    grant: Grant
    version: str

    @property
    def urn(self) -> str:
        return f"urn:li:person:{self.member}"


def authenticate(state: LinkedInState, request: Request) -> Grant:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    token = state.access.get(value.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        raise error(401, "INVALID_ACCESS_TOKEN", "Invalid access token", 65600)
    if token.grant.revoked:
        raise error(
            401,
            "REVOKED_ACCESS_TOKEN",
            "The token used in the request has been revoked by the user",
            65601,
        )
    if state.now() >= token.expires_at:
        raise error(401, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired", 65602)
    return token.grant


def check_version(state: LinkedInState, request: Request) -> str:
    raw = request.headers.get("linkedin-version")
    if raw is None:
        # Production's exact body for a missing header is not documented.
        raise error(
            400,
            "VERSION_MISSING",
            "A version must be present. Please specify a "
            "version by adding the LinkedIn-Version header.",
        )
    match = _VERSION.match(raw.strip())
    oldest, newest = state.config.active_versions
    if match is None or not oldest <= match.group(1) <= newest:
        raise error(426, "NONEXISTENT_VERSION", f"Requested version {raw} is not active")
    return match.group(1)


async def guard(
    request: Request, endpoint: str, counted: bool = False
) -> tuple[Caller, Fault | None]:
    """Version header, token, faults and (for writes) the member and app daily counters,
    which reset at midnight UTC."""
    state = state_of(request)
    version = check_version(state, request)
    grant = authenticate(state, request)
    fault = await state.faults.before(endpoint)
    fault_failure(fault if fault and fault.kind != "lost_response" else None)
    if counted:
        member = state.windows.hit((endpoint, grant.member), DAY, align=True)
        app = state.windows.hit((endpoint, "app"), DAY, align=True)
        if app.count > state.config.daily_app_limit:
            raise throttled()
        if member.count > state.config.daily_member_limit:
            raise throttled("APPLICATION_AND_MEMBER")
    return Caller(grant.member, grant, version), fault


def require(caller: Caller, scope: str, resource: str) -> None:
    if scope not in caller.grant.scopes:
        raise access_denied(f"{resource}.{caller.version}01")
