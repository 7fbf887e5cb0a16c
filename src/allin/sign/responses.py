"""The error shapes of the sign routes. Routes raise; `handle_euler_error` answers.

The signing routes answer `{success: false, error}` and Euler's `{code, message}` in one body,
so either family of clients reads it (429s add `limit_label`, which both EulerStream clients
print); the fetch routes answer Euler's `{code, message}` alone."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from allin.core.domain import ExceptionHandler
from allin.core.errors import AppError
from allin.core.logging import Category, get_logger

log = get_logger(Category.SIGN)

RATE_LIMITED = "Rate limit exceeded"
UNAUTHENTICATED = "Invalid or missing authentication"
INVALID_URL = "Invalid TikTok URL"
INVALID_REQUEST = "Invalid request"
SIGNING_FAILED = "Signature generation failed"
UNAVAILABLE = "Service temporarily unavailable"


class SignError(BaseModel):
    """Documented error body."""

    success: bool = False
    error: str
    code: int
    message: str
    limit_label: str | None = None


def error_body(status: int, error: str, message: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "success": False,
        "error": error,
        "code": status,
        "message": message or error,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


class EulerError(AppError):
    """An error of an EulerStream-compatible route. It is answered in Euler's shapes, not in
    the envelope: `{code, message}` here, the combined shape in `SignFailure`."""

    code = "SIGN_ERROR"

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message, headers=headers)
        self.status = status
        self.status_code = status  # type: ignore[misc]

    def body(self) -> dict[str, Any]:
        return {"code": self.status, "message": self.message}

    @property
    def http_status(self) -> int:
        return self.status

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), self.http_status, headers=self.headers or None)


class SignFailure(EulerError):
    """`{success: false, error, code, message}` plus extras (`limit_label`, `ok`...).

    `answered` sends it with HTTP 200 and the status in the body only, as Euler answers a
    lookup TikTok failed (its clients read `code` and `ok`, not the HTTP status)."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        answered: bool = False,
        **extra: Any,
    ) -> None:
        super().__init__(status, message or error, headers=headers)
        self.error = error
        self.extra = extra
        self.answered = answered

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.error, self.message, **self.extra)

    @property
    def http_status(self) -> int:
        return 200 if self.answered else self.status


async def handle_euler_error(_: Request, exc: Exception) -> JSONResponse:
    """The sign routes' one error handler."""
    assert isinstance(exc, EulerError)
    if exc.status >= 500:
        log.warning("sign route failed", status=exc.status, reason=exc.message)
    return exc.response()


EXCEPTION_HANDLERS: dict[type[Exception], ExceptionHandler] = {EulerError: handle_euler_error}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error statuses a sign route can answer."""
    descriptions = {
        400: INVALID_URL + " or malformed request",
        401: UNAUTHENTICATED,
        403: "Forbidden",
        404: "Not found",
        409: "The user is not live",
        429: RATE_LIMITED + " (Retry-After, RateLimit-*, X-RateLimit-* headers)",
        502: SIGNING_FAILED + " / TikTok failed",
        503: UNAVAILABLE,
        504: "The signer timed out",
    }
    return {s: {"model": SignError, "description": descriptions[s]} for s in statuses}
