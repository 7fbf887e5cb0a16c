"""Request bodies of the sign routes: JSON, or form-encoded where TikTokLive 6.x posts forms.

Each body is checked against the model its route documents (unknown fields are ignored, as
EulerStream ignores them) and refused with 400 in the sign routes' error shape otherwise.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, Field, PlainValidator, ValidationError, WithJsonSchema
from starlette.requests import Request

from allin.sign.algorithm.urls import InvalidTikTokUrl, validate_tiktok_url

# The URLs the service signs: http(s), tiktok.com or a subdomain, no port, no credentials,
# printable ASCII. Enforced (see `check_tiktok_url`) exactly as documented.
TIKTOK_URL_PATTERN = r"^https?://([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*tiktok\.com(/[!-\[\]-~]*)?$"
_TIKTOK_URL = re.compile(TIKTOK_URL_PATTERN)
URL_RULE = "only http(s) URLs on tiktok.com or its subdomains, without port or credentials"
M = TypeVar("M", bound=BaseModel)


def check_tiktok_url(url: str) -> str:
    """``url`` if the service signs it, else InvalidTikTokUrl (with the validator's reason)."""
    validate_tiktok_url(url)
    if not _TIKTOK_URL.fullmatch(url):
        raise InvalidTikTokUrl(url, URL_RULE)
    return url


class BadBody(Exception):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


async def read_body(request: Request) -> tuple[dict[str, Any], bool]:
    """The body as a dict, and whether it came form-encoded (all values are strings then)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}, True
    return json_object(await request.body()), False


def json_object(raw: bytes) -> dict[str, Any]:
    """A JSON object body; an empty body is an empty object. Raises BadBody."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise BadBody("Request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise BadBody("Request body must be a JSON object")
    return body


def first_problem(exc: ValidationError) -> BadBody:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or None
    if error["type"] == "missing":
        return BadBody(f"`{field}` is required", field=field)
    if field == "url" and error["type"] == "string_pattern_mismatch":
        try:
            check_tiktok_url(str(error["input"]))
        except InvalidTikTokUrl as invalid:  # the validator says why, in words
            return BadBody(str(invalid), field=field)
    return BadBody(f"`{field}`: {error['msg']}", field=field)


async def parse_body(
    request: Request, model: type[M], *, form_model: type[BaseModel] | None = None
) -> M:
    """The request body as ``model``, with strict types for JSON. A form body (all strings) is
    checked against ``form_model`` first when given. Raises BadBody."""
    body, form = await read_body(request)
    try:
        if form and form_model is not None:
            body = form_model.model_validate(body).model_dump(exclude_none=True)
        return model.model_validate(body, strict=not form)
    except ValidationError as exc:
        raise first_problem(exc) from None


class EulerSignBody(BaseModel):
    """Body of `/api/eulerstream`, `/api/signature`, `/api/sign`."""

    url: str = Field(pattern=TIKTOK_URL_PATTERN, examples=["https://www.tiktok.com/@testuser/live"])
    userAgent: str | None = None  # the browser the signature is for; a desktop Chrome if absent


class SignUrlBody(BaseModel):
    """EulerStream's `SignTikTokUrlBody` (v1 `/webcast/sign_url`, v2 `/tiktok/sign_url`);
    besides `url` and `userAgent` the fields are accepted and not used."""

    url: str = Field(pattern=TIKTOK_URL_PATTERN)
    userAgent: str | None = None
    method: str | None = None
    type: str | None = None
    payload: str | None = None
    sessionId: str | None = None
    ttTargetIdc: str | None = None
    ttwid: str | None = None
    includeBrowserParams: bool | None = None
    includeVerifyFp: bool | None = None


def _user_id(value: object) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON's 12.0 is an integer too
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and re.fullmatch(r"[1-9][0-9]{0,19}", value):
        return int(value)
    raise ValueError("a user id is a positive integer, or a string of its digits")


UserId = Annotated[
    int,
    PlainValidator(_user_id),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "exclusiveMinimum": 0},
                {"type": "string", "pattern": r"^[1-9][0-9]{0,19}$"},
            ]
        }
    ),
]


class BulkLiveCheckBody(BaseModel):
    """User ids as numbers or, since they exceed JavaScript's safe integers, as strings."""

    user_numeric_ids: list[UserId] = Field(min_length=1, max_length=50)


class CompatibilityBody(BaseModel):
    testSuite: Literal["eulerstream_compatibility"] = "eulerstream_compatibility"


class SignUrlForm(BaseModel):
    """The form-encoded `SignUrlBody` (TikTokLive 6.x): every value is a string."""

    url: str = Field(pattern=TIKTOK_URL_PATTERN)
    userAgent: str | None = None
    method: str | None = None
    type: str | None = None
    payload: str | None = None
    sessionId: str | None = None
    ttTargetIdc: str | None = None


def request_body(
    model: type[BaseModel], *, form: type[BaseModel] | None = None, required: bool = True
) -> dict[str, Any]:
    """`openapi_extra` documenting ``model`` as the JSON body (and ``form`` as the form)."""
    content: dict[str, Any] = {"application/json": {"schema": model.model_json_schema()}}
    if form is not None:
        content["application/x-www-form-urlencoded"] = {"schema": form.model_json_schema()}
    return {"requestBody": {"required": required, "content": content}}
