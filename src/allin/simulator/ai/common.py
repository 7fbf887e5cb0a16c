"""What both simulators share: reading the request, the prompt's text, SSE framing."""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.requests import Request

from allin.simulator.ai.content import json_for_schema, reply_text


class BadBody(Exception):
    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


async def read_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadBody("We could not parse the JSON body of your request.") from None
    if not isinstance(body, dict):
        raise BadBody("The request body must be a JSON object.")
    return body


def text_of(content: Any) -> str:
    """A message's content as text: a string, or a list of text parts/blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def answer(prompt: str, schema: dict[str, Any] | None) -> str:
    return json_for_schema(schema, prompt) if schema is not None else reply_text(prompt)


def sse(data: Any, event: str | None = None) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:24]}"


def lower_headers(request: Request) -> dict[str, str]:
    return {key.lower(): value for key, value in request.headers.items()}
