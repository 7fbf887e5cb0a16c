"""Request bodies of the sign routes: JSON or form-encoded (TikTokLive 6.x posts forms), read
leniently like EulerStream does (unknown fields are ignored), with documented schemas."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request

# What a caller may send as `url` in the documented examples: a TikTok URL (any other URL is
# answered 400 "Invalid TikTok URL").
TIKTOK_URL_PATTERN = (
    r"^https://(www|webcast|m)\.tiktok\.com/[A-Za-z0-9/_@.~-]*(\?[A-Za-z0-9_.~=&%-]*)?$"
)
USER_AGENT_PATTERN = r"^[\x20-\x7E]{0,512}$"


class BadBody(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def read_body(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise BadBody("Request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise BadBody("Request body must be a JSON object")
    return body


def text_field(body: dict[str, Any], *names: str) -> str | None:
    """The first of ``names`` present as a non-empty string."""
    for name in names:
        value = body.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


class SeedSignBody(BaseModel):
    """Body of `/api/eulerstream`, `/api/signature`, `/api/sign`."""

    url: str = Field(pattern=TIKTOK_URL_PATTERN, examples=["https://www.tiktok.com/@testuser/live"])
    userAgent: str | None = Field(default=None, pattern=USER_AGENT_PATTERN)


class SignUrlBody(BaseModel):
    """EulerStream's `SignTikTokUrlBody` (v1 `/webcast/sign_url`, v2 `/tiktok/sign_url`)."""

    url: str = Field(pattern=TIKTOK_URL_PATTERN)
    userAgent: str | None = Field(default=None, pattern=USER_AGENT_PATTERN)
    method: str | None = Field(default="GET", pattern=r"^(GET|POST|OPTIONS|PUT|DELETE|PATCH|HEAD)$")
    type: str | None = Field(default=None, pattern=r"^(fetch|xhr)$")
    payload: str | None = Field(default=None, max_length=10_000)
    sessionId: str | None = Field(default=None, max_length=256)
    ttTargetIdc: str | None = Field(default=None, max_length=64)


class BulkLiveCheckBody(BaseModel):
    user_numeric_ids: list[int] = Field(min_length=1, max_length=50)


def request_body(model: type[BaseModel], *, form: bool = False) -> dict[str, Any]:
    """`openapi_extra` documenting ``model`` as the JSON (and optionally form) body."""
    schema = model.model_json_schema()
    content: dict[str, Any] = {"application/json": {"schema": schema}}
    if form:
        content["application/x-www-form-urlencoded"] = {"schema": schema}
    return {"requestBody": {"required": True, "content": content}}
