"""TikTok's response shapes, request guards (bearer, scopes, rate limits) and injected faults."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from allin.simulator.open_api.state import AccessToken, World, log_id


class ApiFailure(Exception):
    """Raised inside a handler; becomes TikTok's `{data, error}` failure envelope."""

    def __init__(
        self, status: int, code: str, message: str = "", headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.message = message or code
        self.headers = headers or {}


class RawFailure(Exception):
    """An injected failure with a non-JSON body, as a gateway would send."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(str(status))
        self.status = status
        self.headers = headers or {}


def world_of(request: Request) -> World:
    world: World = request.app.state.sim
    return world


def envelope(data: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(
        {"data": data, "error": {"code": "ok", "message": "", "log_id": log_id()}}, status
    )


def failure_envelope(failure: ApiFailure) -> JSONResponse:
    body = {
        "data": {},
        "error": {"code": failure.code, "message": failure.message, "log_id": log_id()},
    }
    return JSONResponse(body, failure.status, headers=failure.headers or None)


def oauth_error(world: World, error: str, description: str) -> JSONResponse:
    body = {"error": error, "error_description": description, "log_id": log_id()}
    return JSONResponse(body, world.config.oauth_error_status)


async def api_failure_handler(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiFailure)
    return failure_envelope(exc)


async def raw_failure_handler(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RawFailure)
    return PlainTextResponse("upstream error", exc.status, headers=exc.headers or None)


async def apply_fault(world: World, endpoint: str) -> None:
    world.count(endpoint)
    fault = world.take_fault(endpoint)
    if fault is None:
        return
    if fault.delay:
        await asyncio.sleep(fault.delay)
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
    if fault.code is None:
        raise RawFailure(fault.status, headers)
    raise ApiFailure(fault.status, fault.code, f"injected {fault.code}", headers)


def bearer(world: World, request: Request, *any_of: str) -> AccessToken:
    """401 access_token_invalid for a missing/unknown/expired/revoked token; scope check."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    token = world.access.get(value.strip()) if scheme.lower() == "bearer" else None
    if token is None or not token.valid():
        raise ApiFailure(
            401, "access_token_invalid", "Access token is invalid, please refresh token and retry"
        )
    if any_of and (token.grant is None or not set(any_of) & set(token.grant.scopes)):
        raise ApiFailure(
            401, "scope_not_authorized", "The user did not authorize the scope required"
        )
    return token


def rate_limit(world: World, endpoint: str, key: str) -> None:
    limit = world.config.rate_limits.get(endpoint)
    if limit is None:
        return
    wait = world.limits.hit(endpoint, key, limit)
    if wait is not None:
        headers = (
            {"Retry-After": str(max(1, math.ceil(wait)))} if world.config.send_retry_after else {}
        )
        raise ApiFailure(429, "rate_limit_exceeded", "Rate limit exceeded", headers)


def fields_param(request: Request) -> list[str]:
    raw = request.query_params.get("fields", "")
    fields = [f.strip() for f in raw.split(",") if f.strip()]
    if not fields:
        raise ApiFailure(400, "invalid_params", "fields is required")
    return fields


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiFailure(400, "invalid_params", "The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiFailure(400, "invalid_params", "The request body must be a JSON object")
    return body


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
