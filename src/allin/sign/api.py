"""EulerStream's sign routes: `POST /api/eulerstream` (and the same at `/api/signature`,
`/api/sign`), plus the per-key usage and limits the dashboard draws."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from allin.auth.deps import CurrentUser
from allin.core.deps import DbSession
from allin.core.domain import app_state
from allin.core.schemas import Envelope, ErrorEnvelope, ok
from allin.sign.access import SignAccess
from allin.sign.bodies import (
    BadBody,
    EulerSignBody,
    first_problem,
    json_object,
    read_body,
    request_body,
)
from allin.sign.compat import bad_body, sign_or_fail, sign_service
from allin.sign.responses import EulerError, documented
from allin.sign.service import SignService
from allin.sign.usage import usage_for_user

router = APIRouter(tags=["sign"])
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorEnvelope, "description": "Not signed in (a session token or API key)"},
    403: {"model": ErrorEnvelope, "description": "Account suspended or not verified"},
}
Answer = tuple[int, dict[str, Any]]
EULER_SIGN_PATHS = ("/api/eulerstream", "/api/signature", "/api/sign")


class EulerSignature(BaseModel):
    signature: str
    signed_url: str
    x_bogus: str = Field(alias="X-Bogus")
    x_tt_params: str = Field(alias="x-tt-params")
    msToken: str
    user_agent: str
    signer: str
    cached: bool


class EulerSignResponse(BaseModel):
    success: bool = True
    data: EulerSignature


async def euler_answer(service: SignService, body: dict[str, Any], *, strict: bool) -> Answer:
    """(HTTP status, JSON body) of a sign request whose body was already read. Raises
    SignFailure."""
    try:
        parsed = EulerSignBody.model_validate(body, strict=strict)
    except ValidationError as exc:
        raise bad_body(first_problem(exc)) from exc
    signed, cached = await sign_or_fail(service, parsed.url, parsed.userAgent)
    data = {
        "signature": signed.signature,
        "signed_url": signed.signed_url,
        "X-Bogus": signed.x_bogus,
        "x-tt-params": signed.x_tt_params,
        "msToken": signed.ms_token,
        "user_agent": signed.user_agent,
        "signer": service.mode,
        "cached": cached,
    }
    return 200, {"success": True, "data": data}


async def euler_answer_raw(service: SignService, raw: bytes) -> Answer:
    """The same from a raw JSON body, errors included: the middleware's fast path answers
    without routing, so without the exception handlers."""
    try:
        return await euler_answer(service, json_object(raw), strict=True)
    except BadBody as exc:
        failure = bad_body(exc)
        return failure.http_status, failure.body()
    except EulerError as exc:
        return exc.http_status, exc.body()


async def euler_sign(request: Request) -> JSONResponse:
    try:
        body, form = await read_body(request)
    except BadBody as exc:
        raise bad_body(exc) from exc
    status, payload = await euler_answer(sign_service(request), body, strict=not form)
    return JSONResponse(payload, status)


for _path in EULER_SIGN_PATHS:
    router.add_api_route(
        _path,
        euler_sign,
        methods=["POST"],
        summary="Sign a TikTok URL",
        description=(
            "Body `{url}` (JSON or form; optional `userAgent`). Answers `{success: true, data: "
            "{signature, signed_url, X-Bogus, x-tt-params, ...}}`; errors are "
            '`{success: false, error: "..."}` with `code` and `message`. No key: 1000 requests '
            "per hour per IP; a key (`Authorization: Bearer`, `x-api-key` or `?apiKey=`) gets "
            "its plan's quota, unlimited by default."
        ),
        response_model=EulerSignResponse,
        responses=documented(400, 401, 429, 502, 503, 504),
        openapi_extra=request_body(EulerSignBody),
        operation_id=f"euler_sign_{_path.rsplit('/', 1)[-1]}",
    )


# -- usage for the dashboard -----------------------------------------------------------------


class UsageHour(BaseModel):
    api_key_id: uuid.UUID
    key_name: str
    key_prefix: str
    hour: datetime
    requests: int
    rate_limited: int


class SignLimits(BaseModel):
    signer: str
    anonymous_limit: str
    plan: str
    key_limit: str | None  # None: unlimited


@router.get(
    "/api/sign/usage",
    summary="Requests per hour (and 429s) of each of the caller's API keys",
    response_model=Envelope[list[UsageHour]],
    responses=AUTH_ERRORS,
)
async def usage(
    request: Request,
    user: CurrentUser,
    db: DbSession,
    hours: int = Query(default=24, ge=1, le=24 * 90),
) -> Envelope[list[UsageHour]]:
    await app_state(request.app).get(SignAccess).usage.flush()  # include the last seconds
    rows = await usage_for_user(db, user.id, hours)
    return ok([UsageHour.model_validate(row, from_attributes=True) for row in rows])


@router.get(
    "/api/sign/limits",
    summary="The signer in use and the limits that apply to the caller's keys",
    response_model=Envelope[SignLimits],
    responses=AUTH_ERRORS,
)
async def limits(request: Request, user: CurrentUser) -> Envelope[SignLimits]:
    settings = sign_service(request).settings
    return ok(
        SignLimits(
            signer=sign_service(request).mode,
            anonymous_limit=settings.sign_anonymous_limit,
            plan=user.plan,
            key_limit=settings.sign_plan_limits.get(user.plan),
        )
    )
