"""Exception handlers: everything a client sees is an envelope with a stable code."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from allin.core.domain import ExceptionHandler
from allin.core.errors import (
    AppError,
    MalformedJSONError,
    UnsupportedMediaTypeError,
    ValidationError,
    error_for_status,
)
from allin.core.logging import Category, get_logger
from allin.core.routing import RouteMethods
from allin.core.schemas import error_payload

log = get_logger(Category.HTTP)
_BODY_TYPES = ("application/json", "+json", "application/x-www-form-urlencoded", "multipart/")


def error_response(error: AppError) -> JSONResponse:
    return JSONResponse(
        error_payload(error.code, error.message, error.details),
        status_code=error.status_code,
        headers=error.headers or None,
    )


async def handle_app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    if exc.status_code >= 500:
        log.error("server error", code=exc.code, error=exc.message)
    return error_response(exc)


def allowed_methods(request: Request) -> list[str]:
    """Every method any route offers for this path (the router's own 405 names only the
    first route that matched it)."""
    return sorted(RouteMethods(lambda: request.app.routes).methods(request.url.path))


async def handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error = error_for_status(exc.status_code, exc.detail if isinstance(exc.detail, str) else None)
    if exc.headers:
        error.headers = dict(exc.headers)
    if exc.status_code == 405:
        error.headers["Allow"] = ", ".join(allowed_methods(request))
    return error_response(error)


def _field_details(errors: list[Any]) -> list[dict[str, Any]]:
    details = []
    for err in errors:
        loc = [str(part) for part in err.get("loc", ())]
        details.append(
            {
                "field": ".".join(loc[1:] or loc),
                "location": loc[0] if loc else None,
                "message": err.get("msg", ""),
                "type": err.get("type", ""),
            }
        )
    return details


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(err.get("type") == "json_invalid" for err in errors):
        return error_response(MalformedJSONError(details=_field_details(errors)))
    content_type = request.headers.get("content-type", "")
    body_errors = [e for e in errors if e.get("loc", ("",))[0] == "body"]
    if body_errors and content_type and not any(t in content_type for t in _BODY_TYPES):
        return error_response(
            UnsupportedMediaTypeError(f"Expected application/json, got {content_type!r}")
        )
    return error_response(ValidationError(details=_field_details(errors)))


EXCEPTION_HANDLERS: dict[type[Exception], ExceptionHandler] = {
    AppError: handle_app_error,
    StarletteHTTPException: handle_http_exception,
    RequestValidationError: handle_validation_error,
}
