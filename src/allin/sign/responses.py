"""The error shape of every sign route: seed 000's `{success: false, error}` and Euler's
`{code, message}` in one body, so either family of clients reads it (429s add
`limit_label`, which both reference clients print)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel

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


@dataclass(frozen=True, slots=True)
class Failure:
    """An error answer before it becomes a response (the ASGI fast path sends it raw)."""

    status: int
    body: dict[str, Any]

    def response(self, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(self.body, self.status, headers=headers)


def failure(status: int, error: str, message: str | None = None, **extra: Any) -> Failure:
    return Failure(status, error_body(status, error, message, **extra))


def error_response(
    status: int,
    error: str,
    message: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(error_body(status, error, message, **extra), status, headers=headers)


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
