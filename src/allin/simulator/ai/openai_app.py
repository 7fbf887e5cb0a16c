"""OpenAI Chat Completions (`POST /v1/chat/completions`, `GET /v1/models`) as a local app.

Non-streaming answers are `chat.completion` objects; streams are bare `data:` lines: a role
chunk, content chunks, a finish chunk, the `choices: []` usage chunk when `include_usage` is
set (earlier chunks then carry `"usage": null`), and `data: [DONE]`. Errors use the
`{"error": {message, type, param, code}}` body with the documented statuses and headers.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
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

_CUT_AFTER = 3  # deltas sent before a cut or a mid-stream error


def _rate_headers(remaining: int = 4999) -> dict[str, str]:
    return {
        "x-ratelimit-limit-requests": "5000",
        "x-ratelimit-remaining-requests": str(remaining),
        "x-ratelimit-reset-requests": "12ms",
        "x-ratelimit-limit-tokens": "800000",
        "x-ratelimit-remaining-tokens": "799000",
        "x-ratelimit-reset-tokens": "6m0s",
    }


def _error(
    status: int,
    message: str,
    kind: str,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    merged = {"x-request-id": new_id("req_"), **(headers or {})}
    return JSONResponse(body, status, headers=merged)


def _fault(scenario: Scenario) -> JSONResponse | None:
    if scenario is Scenario.RATE_LIMIT or scenario is Scenario.RATE_LIMIT_LONG:
        wait = "1" if scenario is Scenario.RATE_LIMIT else "3600"
        headers = {**_rate_headers(0), "retry-after": wait}
        return _error(
            429,
            "Rate limit reached for requests (simulated).",
            "requests",
            "rate_limit_exceeded",
            headers=headers,
        )
    table: dict[Scenario, tuple[int, str, str, str | None, dict[str, str]]] = {
        Scenario.QUOTA: (
            429,
            "You exceeded your current quota (simulated).",
            "insufficient_quota",
            "insufficient_quota",
            {"x-should-retry": "false"},
        ),
        Scenario.SERVER_ERROR: (
            500,
            "The server had an error while processing your request (simulated).",
            "server_error",
            None,
            {},
        ),
        Scenario.OVERLOADED: (
            503,
            "The server is overloaded (simulated).",
            "service_unavailable_error",
            "server_is_overloaded",
            {},
        ),
        Scenario.NOT_FOUND: (
            404,
            "The model does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
            {},
        ),
        Scenario.BAD_REQUEST: (
            400,
            "Invalid request (simulated).",
            "invalid_request_error",
            None,
            {},
        ),
    }
    if scenario in table:
        status, message, kind, code, headers = table[scenario]
        return _error(status, message, kind, code, headers=headers)
    return None


def _check_key(request: Request, state: SimState) -> JSONResponse | None:
    auth = request.headers.get("authorization", "")
    key = auth[7:] if auth.lower().startswith("bearer ") else ""
    if key == state.api_key:
        return None
    shown = f"{key[:3]}***{key[-4:]}" if len(key) > 8 else "***"
    return _error(
        401,
        f"Incorrect API key provided: {shown}.",
        "invalid_request_error",
        "invalid_api_key",
    )


def _schema(body: dict[str, Any]) -> dict[str, Any] | None:
    fmt = body.get("response_format")
    if not isinstance(fmt, dict):
        return None
    if fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema") or {}
        schema = spec.get("schema") if isinstance(spec, dict) else None
        return schema if isinstance(schema, dict) else {"type": "object"}
    if fmt.get("type") == "json_object":
        return {"type": "object", "properties": {"result": {"type": "string"}}}
    return None


def _validate(body: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    model, messages = body.get("model"), body.get("messages")
    if not isinstance(model, str) or not model:
        raise BadBody("you must provide a model parameter", "model")
    if not isinstance(messages, list) or not messages:
        raise BadBody("'messages' must be a non-empty array", "messages")
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in {
            "developer",
            "system",
            "user",
            "assistant",
            "tool",
        }:
            raise BadBody("each message needs a valid 'role'", "messages")
    if "stream_options" in body and not body.get("stream"):
        raise BadBody(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
        )
    return model, messages


def create_openai_simulator(state: SimState | None = None) -> FastAPI:
    app = FastAPI(title="OpenAI Chat Completions simulator", docs_url=None, redoc_url=None)
    app.state.sim = state = state or SimState()

    @app.get("/v1/models")
    async def models(request: Request) -> Response:
        denied = _check_key(request, state)
        if denied is not None:
            return denied
        data = [{"id": "gpt-sim", "object": "model", "created": 0, "owned_by": "allin-sim"}]
        return JSONResponse({"object": "list", "data": data})

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        headers = lower_headers(request)
        try:
            body = await read_json(request)
        except BadBody as exc:
            state.log(request.url.path, headers, None, Scenario.BAD_REQUEST)
            return _error(400, exc.message, "invalid_request_error")
        scenario = state.pick(headers, body.get("model") if isinstance(body, dict) else None)
        state.log(request.url.path, headers, body, scenario)
        denied = _check_key(request, state)
        if denied is not None:
            return denied
        try:
            model, messages = _validate(body)
        except BadBody as exc:
            return _error(400, exc.message, "invalid_request_error", param=exc.param)
        fault = _fault(scenario)
        if fault is not None:
            return fault
        return await _complete(state, scenario, body, model, messages)

    return app


async def _complete(
    state: SimState,
    scenario: Scenario,
    body: dict[str, Any],
    model: str,
    messages: list[dict[str, Any]],
) -> Response:
    prompt = "\n".join(text_of(m.get("content")) for m in messages)
    last_user = next(
        (text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), prompt
    )
    schema = _schema(body)
    text = answer(last_user, schema)
    if scenario is Scenario.GARBAGE and not body.get("stream"):
        text = "[simulated] this is not the JSON you asked for {"
    cap = body.get("max_completion_tokens") or body.get("max_tokens")
    text, truncated = cap_text(text, int(cap) if isinstance(cap, int) else None)
    prompt_tokens = estimate_tokens(prompt) + 3 * len(messages)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": estimate_tokens(text),
        "total_tokens": prompt_tokens + estimate_tokens(text),
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }
    finish = "length" if truncated else "stop"
    ident, created = new_id("chatcmpl-"), int(time.time())
    headers = {"x-request-id": new_id("req_"), "openai-processing-ms": "1", **_rate_headers()}
    if body.get("stream"):
        options = body.get("stream_options") or {}
        stream = _stream(state, scenario, ident, created, model, text, finish, usage, options)
        return StreamingResponse(stream, media_type="text/event-stream", headers=headers)
    if scenario is Scenario.SLOW:
        await state.pause(state.slow_seconds)
    completion = {
        "id": ident,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
        "usage": usage,
        "system_fingerprint": "fp_allin_sim",
    }
    return JSONResponse(completion, headers=headers)


async def _stream(
    state: SimState,
    scenario: Scenario,
    ident: str,
    created: int,
    model: str,
    text: str,
    finish: str,
    usage: dict[str, Any],
    options: dict[str, Any],
) -> AsyncIterator[bytes]:
    with_usage = bool(options.get("include_usage"))
    padded = options.get("include_obfuscation", True)

    def chunk(delta: dict[str, Any], reason: str | None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_allin_sim",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}],
        }
        if with_usage:
            data["usage"] = None
        if padded:
            data["obfuscation"] = "x" * (len(ident) % 7 + 1)
        return data

    if scenario is Scenario.SLOW:
        await state.pause(state.slow_seconds)
    yield sse(chunk({"role": "assistant", "content": "", "refusal": None}, None))
    for sent, piece in enumerate(pieces(text)):
        if sent == _CUT_AFTER and scenario is Scenario.CUT:
            return
        if sent == _CUT_AFTER and scenario is Scenario.GARBAGE:
            yield b"data: {not json at all\n\n"
            return
        if sent == _CUT_AFTER and scenario is Scenario.MIDSTREAM_ERROR:
            yield sse(
                {
                    "error": {
                        "message": "The server had an error while streaming (simulated).",
                        "type": "server_error",
                        "param": None,
                        "code": None,
                    }
                }
            )
            return
        await state.pause(state.token_delay)
        yield sse(chunk({"content": piece}, None))
    yield sse(chunk({}, finish))
    if with_usage:
        final = chunk({}, None)
        final["choices"] = []
        final["usage"] = usage
        yield sse(final)
    yield sse("[DONE]")
