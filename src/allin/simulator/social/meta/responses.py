"""Graph API answers: the `{"error": {...}}` body with its code/subcode families, the request
context (which token, which object), and the X-App-Usage / X-Business-Use-Case-Usage headers."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import UploadFile

from allin.simulator.social.common import Fault, SimFailure
from allin.simulator.social.meta.state import MetaState, Token

HOUR, DAY = 3_600.0, 86_400.0


def fbtrace_id() -> str:
    return secrets.token_urlsafe(8)


def graph_error(
    status: int,
    code: int,
    message: str,
    subcode: int | None = None,
    kind: str = "OAuthException",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> SimFailure:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(extra)
    error["fbtrace_id"] = fbtrace_id()
    return SimFailure(status, {"error": error}, headers)


def token_error(message: str, subcode: int | None = None) -> SimFailure:
    headers = {"WWW-Authenticate": f'OAuth "Facebook Platform" "invalid_token" "{message}"'}
    return graph_error(400, 190, message, subcode, headers=headers)


_DEAD = {
    458: "Error validating access token: The user has not authorized application {app}.",
    459: "Error validating access token: You cannot access the app till you log in to "
    "www.facebook.com and follow the instructions given.",
    460: "Error validating access token: The session has been invalidated because the user "
    "changed their password or Facebook has changed the session for security reasons.",
    492: "Error validating access token: The user is not an administrator, editor, or "
    "moderator of this Page.",
}


def dead_token(state: MetaState, token: Token) -> SimFailure:
    if token.dead_subcode is not None:
        template = _DEAD.get(token.dead_subcode, "Error validating access token.")
        return token_error(template.format(app=state.config.app_id), token.dead_subcode)
    stamp = "%A, %d-%b-%y %H:%M:%S UTC"
    ended = datetime.fromtimestamp(token.expires_at, UTC).strftime(stamp)
    current = datetime.fromtimestamp(state.now(), UTC).strftime(stamp)
    return token_error(
        f"Error validating access token: Session has expired on {ended}. The current time "
        f"is {current}.",
        463,
    )


def ig_error(
    code: int, subcode: int, message: str, user_title: str, user_msg: str, status: int = 400
) -> SimFailure:
    return graph_error(
        status,
        code,
        message,
        subcode,
        is_transient=False,
        error_user_title=user_title,
        error_user_msg=user_msg,
    )


def param_error(message: str, subcode: int | None = None) -> SimFailure:
    return graph_error(400, 100, message, subcode)


def not_found(object_id: str) -> SimFailure:
    return graph_error(
        400,
        100,
        f"Unsupported get request. Object with ID '{object_id}' does "
        "not exist, cannot be loaded due to missing permissions, or does not "
        "support this operation. Please read the Graph API documentation at "
        "https://developers.facebook.com/docs/graph-api",
        33,
        kind="GraphMethodException",
    )


@dataclass(slots=True)
class Ctx:
    version: str
    params: dict[str, Any]
    token: Token | None = None
    headers: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    base_url: str = ""

    def text(self, name: str, default: str = "") -> str:
        value = self.params.get(name, default)
        return default if value is None or isinstance(value, UploadFile) else str(value)

    def flag(self, name: str, default: bool) -> bool:
        value = self.params.get(name)
        if value is None:
            return default
        return str(value).lower() not in ("false", "0")

    def fields(self) -> set[str]:
        return {f.strip() for f in self.text("fields").split(",") if f.strip()}

    @property
    def user(self) -> Token:
        assert self.token is not None
        return self.token


def usage_headers(state: MetaState, ctx: Ctx, buc_id: str | None, buc_type: str) -> bool:
    """Counts the call against the app (X-App-Usage) or the business object's use case
    (X-Business-Use-Case-Usage); returns whether the limit is exceeded."""
    if buc_id is None:
        window = state.windows.hit(("app",), HOUR)
        pct = min(100, window.count * 100 // max(1, state.config.app_calls_per_hour))
        ctx.headers["X-App-Usage"] = json.dumps(
            {"call_count": pct, "total_cputime": pct // 2, "total_time": pct // 2}
        )
        return window.count > state.config.app_calls_per_hour
    window = state.windows.hit(("buc", buc_id), DAY)
    pct = min(100, window.count * 100 // max(1, state.config.buc_calls_per_day))
    over = window.count > state.config.buc_calls_per_day
    regain = max(0, int((window.reset_at - state.now()) // 60)) if over else 0
    ctx.headers["X-Business-Use-Case-Usage"] = json.dumps(
        {
            buc_id: [
                {
                    "type": buc_type,
                    "call_count": pct,
                    "total_cputime": pct // 2,
                    "total_time": pct // 2,
                    "estimated_time_to_regain_access": regain,
                }
            ]
        }
    )
    return over


def throttled(state: MetaState, ctx: Ctx, buc_type: str | None) -> SimFailure:
    status = state.config.throttle_status
    if buc_type == "instagram":
        return graph_error(
            status,
            80002,
            "(#80002) There have been too many calls to this "
            "Instagram account. Wait a bit and try again. For more info, please "
            "refer to https://developers.facebook.com/docs/graph-api/overview/"
            "rate-limiting.",
            headers=ctx.headers,
            is_transient=True,
        )
    if buc_type == "pages":
        code = state.config.page_throttle_code
        message = (
            "(#32) Page request limit reached"
            if code == 32
            else "(#80001) There have been too many calls to this Page account. Wait a bit "
            "and try again. For more info, please refer to https://developers.facebook"
            ".com/docs/graph-api/overview/rate-limiting."
        )
        return graph_error(status, code, message, headers=ctx.headers, is_transient=True)
    if ctx.token is not None and ctx.token.kind == "USER":
        return graph_error(
            status, 17, "(#17) User request limit reached", headers=ctx.headers, is_transient=True
        )
    return graph_error(
        status, 4, "(#4) Application request limit reached", headers=ctx.headers, is_transient=True
    )


def fault_failure(state: MetaState, ctx: Ctx, fault: Fault | None, buc_type: str | None) -> None:
    if fault is None:
        return
    if fault.kind == "error":
        raise graph_error(
            fault.status,
            2,
            "An unexpected error has occurred. Please retry your request later.",
            is_transient=True,
            headers=ctx.headers,
        )
    if fault.kind == "rate_limit":
        raise throttled(state, ctx, buc_type)
    if fault.kind == "usage_cap":
        raise graph_error(400, 341, "(#341) Application limit reached", headers=ctx.headers)


def phantom(fault: Fault | None, instagram: bool) -> None:
    """The work is done and recorded, yet the answer is an error (Meta's "400 that actually
    succeeded"): a client must reconcile before retrying."""
    if fault is None or fault.kind != "phantom_error":
        return
    d = fault.details
    if instagram:
        raise graph_error(
            d.get("status", 400),
            d.get("code", -1),
            d.get("message", "An unexpected error has occurred. Please retry your request later."),
            d.get("subcode", 2207001),
            is_transient=True,
        )
    raise graph_error(
        d.get("status", 400),
        d.get("code", 1),
        d.get("message", "An unknown error has occurred."),
        d.get("subcode"),
        is_transient=True,
    )
