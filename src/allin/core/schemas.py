"""The response envelope shared by every JSON endpoint, and strict request models."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

T = TypeVar("T")


class StrictModel(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ErrorBody(BaseModel):
    code: str = Field(examples=["VALIDATION_ERROR"])
    message: str
    details: Any = None


class PageMeta(BaseModel):
    page: int | None = None
    limit: int | None = None
    total: int | None = None
    next_cursor: str | None = None


class Envelope(BaseModel, Generic[T]):
    success: bool = True
    data: T | None = None
    error: ErrorBody | None = None
    meta: PageMeta | None = None


class ErrorEnvelope(BaseModel):
    success: bool = False
    data: None = None
    error: ErrorBody
    meta: None = None


def ok(data: T, meta: PageMeta | None = None) -> Envelope[T]:
    return Envelope[T](success=True, data=data, meta=meta)


def error_payload(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {
        "success": False,
        "data": None,
        "error": {"code": code, "message": message, "details": details},
        "meta": None,
    }


# Documented on every route so generated clients know the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorEnvelope, "description": description}
    for code, description in (
        (400, "Malformed request"),
        (401, "Authentication missing or invalid"),
        (403, "Not allowed"),
        (404, "Not found (also: someone else's object)"),
        (409, "Conflicts with the current state"),
        (413, "Body too large"),
        (415, "Unsupported content type"),
        (422, "Validation error"),
        (429, "Rate limited (see Retry-After)"),
        (500, "Unexpected error"),
        (502, "An outside service (TikTok, a provider) failed"),
        (503, "A required service is unavailable"),
    )
}


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_8601_only(value: object) -> object:
    # Pydantic would read "0.5" as a Unix time; the schema promises (and we accept) ISO 8601.
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("expected an ISO 8601 date-time such as 2026-11-24T10:00:00Z")
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_8601_only)]
