"""EulerStream-compatible routes besides the fetch routes (EulerStream's v1 and v2 API):
signing, rate limits, room lookups. Keys and quotas are applied by `SignAccessMiddleware`."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from allin.core.domain import app_state
from allin.live.errors import InvalidUsernameError, LiveError
from allin.live.usernames import normalize_username
from allin.sign.access import Caller, Quota, SignAccess
from allin.sign.algorithm.urls import InvalidTikTokUrl
from allin.sign.bodies import (
    BadBody,
    BulkLiveCheckBody,
    SignUrlBody,
    SignUrlForm,
    parse_body,
    request_body,
)
from allin.sign.lookups import MAX_BULK_IDS, Lookups, room_info_payload
from allin.sign.responses import (
    INVALID_REQUEST,
    INVALID_URL,
    SIGNING_FAILED,
    UNAVAILABLE,
    SignFailure,
    documented,
)
from allin.sign.service import SignService
from allin.sign.signers import SignedUrl, SignerError, SignerUnavailable

router = APIRouter(tags=["sign: EulerStream-compatible"])
_LIMIT_TYPES: dict[str, Any] = {"enum": ["WEBCAST", "ALERTS", "RATE_LIMITS", "RANKINGS"]}
_BROWSERS = (("Edg", "edge"), ("OPR", "opera"), ("Chrome", "chrome"), ("Firefox", "firefox"))
# Documented, not enforced by FastAPI: a name TikTok cannot have is answered 404, in our shape.
_USERNAME: dict[str, Any] = {"pattern": r"^[A-Za-z0-9_.]{2,24}$"}


def sign_service(request: Request) -> SignService:
    return app_state(request.app).get(SignService)


def sign_access(request: Request) -> SignAccess:
    return app_state(request.app).get(SignAccess)


def browser_of(user_agent: str) -> tuple[str, str]:
    """(browser name, version) as Euler reports them, read off the User-Agent."""
    for token, name in _BROWSERS:
        match = re.search(rf"\b{token}/([\d.]+)", user_agent)
        if match:
            return name, match.group(1)
    match = re.search(r"Version/([\d.]+).*Safari/", user_agent)
    return ("safari", match.group(1)) if match else ("unknown", "")


async def sign_or_fail(
    service: SignService, url: str | None, user_agent: str | None
) -> tuple[SignedUrl, bool]:
    """The signed URL and whether it was cached. Raises SignFailure."""
    if not url:
        raise SignFailure(400, INVALID_URL, "`url` is required")
    try:
        return await service.sign(url, user_agent)
    except InvalidTikTokUrl as exc:
        raise SignFailure(400, INVALID_URL, str(exc)) from exc
    except SignerUnavailable as exc:
        raise SignFailure(exc.status, UNAVAILABLE, exc.message) from exc
    except SignerError as exc:
        raise SignFailure(exc.status, SIGNING_FAILED, exc.message) from exc


def tokens_of(signed: SignedUrl) -> dict[str, str]:
    tokens = {
        "msToken": signed.ms_token,
        "X-Bogus": signed.x_bogus,
        "x-tt-params": signed.x_tt_params,
    }
    if signed.signature != signed.x_bogus:  # the browser signer's page signature
        tokens["_signature"] = signed.signature
    return tokens


def sign_url_answer(signed: SignedUrl) -> dict[str, Any]:
    name, version = browser_of(signed.user_agent)
    return {
        "code": 200,
        "message": "OK",
        "response": {
            "signedUrl": signed.signed_url,
            "userAgent": signed.user_agent,
            "browserName": name,
            "browserVersion": version,
            "tokens": tokens_of(signed),
            "requestHeaders": {"User-Agent": signed.user_agent},
            "cookies": [],
        },
    }


class SignUrlResponse(BaseModel):
    code: int
    message: str
    response: dict[str, Any]


_SIGN_ERRORS = documented(400, 401, 429, 502, 503, 504)


def bad_body(exc: BadBody) -> SignFailure:
    """A body that does not fit its model: "Invalid TikTok URL" when `url` is the problem."""
    error = INVALID_URL if exc.field in (None, "url") else INVALID_REQUEST
    return SignFailure(400, error, exc.message)


async def _sign_url(request: Request) -> JSONResponse:
    try:
        body = await parse_body(request, SignUrlBody, form_model=SignUrlForm)
    except BadBody as exc:
        raise bad_body(exc) from exc
    signed, _ = await sign_or_fail(sign_service(request), body.url, body.userAgent)
    return JSONResponse(sign_url_answer(signed))


@router.post(
    "/webcast/sign_url",
    summary="Sign a TikTok URL (Euler v1; JSON or form body)",
    response_model=SignUrlResponse,
    responses=_SIGN_ERRORS,
    openapi_extra=request_body(SignUrlBody, form=SignUrlForm),
)
async def webcast_sign_url(request: Request) -> JSONResponse:
    """`response.signedUrl` carries msToken and X-Bogus; `response.tokens` lists them with
    x-tt-params (and `_signature` from the browser signer)."""
    return await _sign_url(request)


@router.post("/webcast/sign_url/", include_in_schema=False)
async def webcast_sign_url_slash(request: Request) -> JSONResponse:
    return await _sign_url(request)  # TikTokLive 6.x adds the slash


class LegacySignUrlResponse(BaseModel):
    """Euler's legacy GET answer (`GetSignWebcastUrlResponse`), fields flat."""

    code: int
    message: str
    signedUrl: str  # Euler's names, as its clients read them
    msToken: str
    browserVersion: str
    browserName: str
    signature: str = Field(alias="_signature")
    x_bogus: str = Field(alias="X-Bogus")
    user_agent: str = Field(alias="User-Agent")


@router.get(
    "/webcast/sign_url",
    summary="Sign a TikTok URL (Euler legacy GET, TikTok-Live-Connector 1.x)",
    response_model=LegacySignUrlResponse,
    responses=_SIGN_ERRORS,
)
async def webcast_sign_url_legacy(
    request: Request,
    url: str | None = Query(default=None, max_length=2048, description="The TikTok URL to sign"),
    user_agent: str | None = Query(default=None, alias="userAgent", max_length=1024),
) -> JSONResponse:
    """`client` and `uuc` are accepted and ignored, as Euler does."""
    signed, _ = await sign_or_fail(sign_service(request), url, user_agent)
    name, version = browser_of(signed.user_agent)
    return JSONResponse(
        {
            "code": 200,
            "message": "OK",
            "signedUrl": signed.signed_url,
            "msToken": signed.ms_token,
            "browserVersion": version,
            "browserName": name,
            "_signature": signed.signature,
            "X-Bogus": signed.x_bogus,
            "User-Agent": signed.user_agent,
        }
    )


@router.post(
    "/tiktok/sign_url",
    summary="Sign a TikTok URL (Euler v2)",
    response_model=SignUrlResponse,
    responses=_SIGN_ERRORS,
    openapi_extra=request_body(SignUrlBody),
)
async def tiktok_sign_url(request: Request) -> JSONResponse:
    return await _sign_url(request)


# -- rate limits -----------------------------------------------------------------------------


def _window(quota: Quota) -> dict[str, Any]:
    if quota.limit is None:
        return {"max": -1, "remaining": -1, "reset_at": None}  # -1: unlimited
    reset = datetime.fromtimestamp(quota.reset_at, UTC).isoformat()
    return {"max": quota.limit, "remaining": quota.remaining, "reset_at": reset}


def rate_limits_answer(caller: Caller, quota: Quota) -> dict[str, Any]:
    windows: dict[str, Any] = {"day": None, "hour": None, "minute": None}
    windows[quota.label if quota.label in windows else "hour"] = _window(quota)
    return {
        "code": 200,
        "message": "OK",
        **windows,
        "load_shedding": {"at": None, "chance": 0},
        "limit_label": quota.label,
        "authenticated": caller.kind == "key",
        "plan": caller.plan,
        "unlimited": quota.limit is None,
    }


async def _rate_limits(request: Request) -> JSONResponse:
    caller: Caller = request.state.sign_caller
    quota: Quota = request.state.sign_quota
    return JSONResponse(rate_limits_answer(caller, quota))


@router.get(
    "/webcast/rate_limits",
    summary="The caller's limits and what is left (Euler v1; spends nothing)",
    responses=documented(401),
)
async def webcast_rate_limits(request: Request) -> JSONResponse:
    return await _rate_limits(request)


@router.get(
    "/accounts/me/rate_limits",
    summary="The caller's limits and what is left (Euler v2; spends nothing)",
    responses=documented(400, 401),
)
async def account_rate_limits(
    request: Request,
    type: str = Query(default="WEBCAST", json_schema_extra=_LIMIT_TYPES),
) -> JSONResponse:
    if type not in _LIMIT_TYPES["enum"]:
        raise SignFailure(400, INVALID_REQUEST, f"`type` must be one of {_LIMIT_TYPES['enum']}")
    return await _rate_limits(request)


# -- room lookups ----------------------------------------------------------------------------


def lookups(request: Request) -> Lookups:
    service = sign_service(request)
    return Lookups(
        http=service.http,
        web_url=service.hosts.web_url,
        webcast_url=service.hosts.webcast_url,
        timeout=service.settings.http_timeout,
        verify=service.hosts.verify,
    )


def _username(raw: str) -> str:
    """The normalised username. Raises SignFailure 404 for a name no TikTok user can have."""
    try:
        if not re.fullmatch(_USERNAME["pattern"], raw.removeprefix("@")):
            raise InvalidUsernameError(raw)
        return normalize_username(raw)
    except InvalidUsernameError as exc:
        raise SignFailure(404, "TikTok user not found", exc.message, ok=False) from exc


def _lookup_error(exc: LiveError) -> SignFailure:
    """Not found / age-restricted keep their HTTP status; a failure on TikTok's side is an
    answered call with Euler's in-body `code` 502 and `ok: false` (the Euler clients read
    `code` and `ok`, not the HTTP status)."""
    status = exc.status_code if exc.status_code in (403, 404, 409) else 502
    return SignFailure(
        status,
        exc.default_message,
        exc.message,
        answered=status == 502,
        ok=False,
        routes_attempted=[],
    )


_LOOKUP_ERRORS = documented(401, 403, 404, 429)


async def _room_id(request: Request, unique_id: str) -> JSONResponse:
    name = _username(unique_id)
    try:
        found = await lookups(request).room(name)
    except LiveError as exc:
        raise _lookup_error(exc) from exc
    return JSONResponse(
        {
            "code": 200,
            "ok": True,
            "message": "OK" if found.is_live else "The user is not live",
            "room_id": str(found.room_id) if found.room_id else None,
            "is_live": found.is_live,
            "routes_attempted": found.routes_attempted,
            "source": found.source,
        }
    )


@router.get(
    "/webcast/room_id",
    summary="A streamer's room id and live state (Euler v1)",
    responses=_LOOKUP_ERRORS,
)
async def webcast_room_id(
    request: Request, unique_id: str = Query(alias="uniqueId", json_schema_extra=_USERNAME)
) -> JSONResponse:
    return await _room_id(request, unique_id)


@router.get(
    "/webcast/anchors/{unique_id}/room_id",
    summary="A streamer's room id and live state (Euler v2)",
    responses=_LOOKUP_ERRORS,
)
async def anchor_room_id(
    request: Request, unique_id: str = Path(json_schema_extra=_USERNAME)
) -> JSONResponse:
    return await _room_id(request, unique_id)


async def _room_info(request: Request, unique_id: str) -> JSONResponse:
    name = _username(unique_id)
    try:
        found, info = await lookups(request).room_info(name)
    except LiveError as exc:
        raise _lookup_error(exc) from exc
    return JSONResponse(
        {
            "code": 200,
            "ok": True,
            "message": "OK" if found.is_live else "The user is not live",
            "routes_attempted": found.routes_attempted,
            "data": room_info_payload(found, info),
        }
    )


@router.get(
    "/webcast/room_info",
    summary="A streamer's profile and room (Euler v1)",
    responses=_LOOKUP_ERRORS,
)
async def webcast_room_info(
    request: Request, unique_id: str = Query(alias="uniqueId", json_schema_extra=_USERNAME)
) -> JSONResponse:
    return await _room_info(request, unique_id)


@router.get(
    "/webcast/anchors/{unique_id}/room_info",
    summary="A streamer's profile and room (Euler v2)",
    responses=_LOOKUP_ERRORS,
)
async def anchor_room_info(
    request: Request, unique_id: str = Path(json_schema_extra=_USERNAME)
) -> JSONResponse:
    return await _room_info(request, unique_id)


@router.post(
    "/webcast/bulk_live_check",
    summary=f"Live state of up to {MAX_BULK_IDS} users by numeric id",
    responses=documented(400, 401, 429),
    openapi_extra=request_body(BulkLiveCheckBody),
)
async def bulk_live_check(request: Request) -> JSONResponse:
    try:
        body = await parse_body(request, BulkLiveCheckBody)
    except BadBody as exc:
        raise SignFailure(400, INVALID_REQUEST, exc.message) from exc
    try:
        data = await lookups(request).bulk_live_check([int(i) for i in body.user_numeric_ids])
    except LiveError as exc:
        raise _lookup_error(exc) from exc
    return JSONResponse({"code": 200, "message": "OK", "response": {"data": data}})
