"""Anthropic Messages (`POST /v1/messages`, `POST /v1/messages/count_tokens`) as a local app.

Requires `anthropic-version`, accepts `x-api-key` or `Authorization: Bearer`, refuses a
missing `max_tokens` and (under 2026-10-21) `temperature`/`top_p`/`top_k`. Streams are named
SSE events: message_start, content_block_start, ping, content_block_delta xN,
content_block_stop, message_delta (cumulative output_tokens), message_stop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from allin.simulator.ai.common import (
    BadBody,
    answer,
    lower_headers,
    new_id,
    read_json,
    sse,
    text_of,
)
from allin.simulator.ai.content import cap_text, estimate_tokens, pieces
from allin.simulator.ai.state import Scenario, SimState

CURRENT_VERSION = "2026-10-21"
KNOWN_VERSIONS = frozenset({"2023-01-01", "2023-06-01", CURRENT_VERSION})
_SAMPLING = ("temperature", "top_p", "top_k")
_CUT_AFTER = 3


def _rate_headers(remaining: int = 49) -> dict[str, str]:
    reset = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers: dict[str, str] = {}
    for kind, limit, left in (
        ("requests", "50", str(remaining)),
        ("tokens", "90000", "89000"),
        ("input-tokens", "80000", "80000"),
        ("output-tokens", "10000", "9000"),
    ):
        headers[f"anthropic-ratelimit-{kind}-limit"] = limit
        headers[f"anthropic-ratelimit-{kind}-remaining"] = left
        headers[f"anthropic-ratelimit-{kind}-reset"] = reset
    return headers


def _error(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    request_id = new_id("req_")
    body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id}
    return JSONResponse(body, status, headers={"request-id": request_id, **(headers or {})})


_FAULTS: dict[Scenario, tuple[int, str, str]] = {
    Scenario.SERVER_ERROR: (500, "api_error", "Internal server error (simulated)."),
    Scenario.OVERLOADED: (529, "overloaded_error", "Overloaded (simulated)."),
    Scenario.BILLING: (402, "billing_error", "Your credit balance is too low (simulated)."),
    Scenario.TOO_LARGE: (413, "request_too_large", "Request exceeds the maximum size."),
    Scenario.NOT_FOUND: (404, "not_found_error", "model: not found (simulated)."),
    Scenario.BAD_REQUEST: (400, "invalid_request_error", "Invalid request (simulated)."),
    Scenario.QUOTA: (400, "invalid_request_error", "You have reached your spend limit."),
}


def _fault(scenario: Scenario) -> JSONResponse | None:
    if scenario in (Scenario.RATE_LIMIT, Scenario.RATE_LIMIT_LONG):
        wait = "1" if scenario is Scenario.RATE_LIMIT else "3600"
        return _error(
            429,
            "rate_limit_error",
            "Number of requests has exceeded your rate limit (simulated).",
            {**_rate_headers(0), "retry-after": wait},
        )
    if scenario in _FAULTS:
        return _error(*_FAULTS[scenario])
    return None


def _check_key(headers: dict[str, str], state: SimState) -> JSONResponse | None:
    key = headers.get("x-api-key")
    auth = headers.get("authorization", "")
    if key is None and auth.lower().startswith("bearer "):
        key = auth[7:]
    if key == state.api_key:
        return None
    return _error(401, "authentication_error", "invalid x-api-key")


def _validate(body: dict[str, Any], version: str) -> tuple[str, int, list[dict[str, Any]]]:
    model, max_tokens, messages = body.get("model"), body.get("max_tokens"), body.get("messages")
    if not isinstance(model, str) or not model:
        raise BadBody("model: Field required")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise BadBody("max_tokens: Field required")
    if not isinstance(messages, list) or not messages:
        raise BadBody("messages: Field required")
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in {"user", "assistant"}:
            raise BadBody("messages: roles must be 'user' or 'assistant'")
    if version == CURRENT_VERSION:
        for name in _SAMPLING:
            if name in body:
                raise BadBody(f"{name}: Extra inputs are not permitted")
    return model, max_tokens, messages


def _schema(body: dict[str, Any]) -> dict[str, Any] | None:
    config = body.get("output_config")
    fmt = config.get("format") if isinstance(config, dict) else None
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = fmt.get("schema")
        return schema if isinstance(schema, dict) else {"type": "object"}
    return None


def create_anthropic_simulator(state: SimState | None = None) -> FastAPI:
    app = FastAPI(title="Anthropic Messages simulator", docs_url=None, redoc_url=None)
    app.state.sim = state = state or SimState(api_key="sk-ant-sim")

    async def admitted(request: Request) -> tuple[dict[str, Any], str] | Response:
        headers = lower_headers(request)
        version = headers.get("anthropic-version")
        try:
            body = await read_json(request)
        except BadBody as exc:
            state.log(request.url.path, headers, None, Scenario.BAD_REQUEST)
            return _error(400, "invalid_request_error", exc.message)
        scenario = state.pick(
            headers, body.get("model") if isinstance(body.get("model"), str) else None
        )
        state.log(request.url.path, headers, body, scenario)
        denied = _check_key(headers, state)
        if denied is not None:
            return denied
        if version not in KNOWN_VERSIONS:
            return _error(400, "invalid_request_error", "anthropic-version: header is required")
        return body, scenario.value + "|" + version

    @app.post("/v1/messages/count_tokens")
    async def count_tokens(request: Request) -> Response:
        got = await admitted(request)
        if isinstance(got, Response):
            return got
        body, _ = got
        text = text_of(body.get("system")) + "".join(
            text_of(m.get("content")) for m in body.get("messages") or [] if isinstance(m, dict)
        )
        return JSONResponse({"input_tokens": estimate_tokens(text)})

    @app.post("/v1/messages")
    async def messages(request: Request) -> Response:
        got = await admitted(request)
        if isinstance(got, Response):
            return got
        body, tag = got
        scenario_name, version = tag.split("|", 1)
        scenario = Scenario(scenario_name)
        try:
            model, max_tokens, msgs = _validate(body, version)
        except BadBody as exc:
            return _error(400, "invalid_request_error", exc.message)
        fault = _fault(scenario)
        if fault is not None:
            return fault
        return await _complete(state, scenario, body, model, max_tokens, msgs)

    return app


async def _complete(
    state: SimState,
    scenario: Scenario,
    body: dict[str, Any],
    model: str,
    max_tokens: int,
    messages: list[dict[str, Any]],
) -> Response:
    system = text_of(body.get("system"))
    prompt = system + "\n" + "\n".join(text_of(m.get("content")) for m in messages)
    last_user = next(
        (text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), prompt
    )
    text = answer(last_user, _schema(body))
    if scenario is Scenario.GARBAGE and not body.get("stream"):
        text = "[simulated] this is not the JSON you asked for {"
    text, truncated = cap_text(text, max_tokens)
    input_tokens = estimate_tokens(prompt)
    usage = {
        "input_tokens": input_tokens,
        "output_tokens": estimate_tokens(text),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    stop = "max_tokens" if truncated else "end_turn"
    ident = new_id("msg_")
    headers = {"request-id": new_id("req_"), **_rate_headers()}
    if body.get("stream"):
        stream = _stream(state, scenario, ident, model, text, stop, usage)
        return StreamingResponse(stream, media_type="text/event-stream", headers=headers)
    if scenario is Scenario.SLOW:
        await state.pause(state.slow_seconds)
    message = {
        "id": ident,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage,
    }
    return JSONResponse(message, headers=headers)


async def _stream(
    state: SimState,
    scenario: Scenario,
    ident: str,
    model: str,
    text: str,
    stop: str,
    usage: dict[str, Any],
) -> AsyncIterator[bytes]:
    if scenario is Scenario.SLOW:
        await state.pause(state.slow_seconds)
    start_usage = {**usage, "output_tokens": 1}
    message: dict[str, Any] = {
        "id": ident,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": start_usage,
    }
    yield sse({"type": "message_start", "message": message}, "message_start")
    block = {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    yield sse(block, "content_block_start")
    yield sse({"type": "ping"}, "ping")
    for sent, piece in enumerate(pieces(text)):
        if sent == _CUT_AFTER and scenario is Scenario.CUT:
            return
        if sent == _CUT_AFTER and scenario is Scenario.GARBAGE:
            yield b"event: content_block_delta\ndata: {not json at all\n\n"
            return
        if sent == _CUT_AFTER and scenario is Scenario.MIDSTREAM_ERROR:
            error = {
                "type": "error",
                "error": {"type": "overloaded_error", "message": "Overloaded (simulated)."},
            }
            yield sse(error, "error")
            return
        await state.pause(state.token_delay)
        delta = {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": piece},
        }
        yield sse(delta, "content_block_delta")
    yield sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
    final = {
        "type": "message_delta",
        "delta": {"stop_reason": stop, "stop_sequence": None},
        "usage": {"output_tokens": usage["output_tokens"]},
    }
    yield sse(final, "message_delta")
    yield sse({"type": "message_stop"}, "message_stop")
