"""Anthropic Messages through the official `anthropic` SDK (API version 2026-10-21: no
sampling parameters are sent; structured output via `output_config.format`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anthropic

from allin.ai.providers.base import (
    ChatRequest,
    Completion,
    Delta,
    FailureKind,
    ProviderFailure,
    StreamEnd,
    Usage,
    failure_for_status,
    parse_retry_after,
)
from allin.core.config import AiProviderConfig
from allin.core.logging import CORRELATION_HEADER, current_correlation_id

_PLACEHOLDER_KEY = "not-needed"


def _failure(exc: Exception) -> ProviderFailure:
    if isinstance(exc, anthropic.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        kind = error.get("type") if isinstance(error, dict) else None
        if exc.status_code == 200:  # an `event: error` after the 200 headers (mid-stream)
            return ProviderFailure(FailureKind.UNAVAILABLE, f"stream error: {kind or exc.message}")
        retry_after = parse_retry_after(exc.response.headers)
        return failure_for_status(exc.status_code, exc.message, retry_after)
    if isinstance(exc, anthropic.APITimeoutError):
        return ProviderFailure(FailureKind.UNAVAILABLE, "timed out")
    if isinstance(exc, anthropic.APIConnectionError):
        return ProviderFailure(FailureKind.UNAVAILABLE, "connection failed")
    return ProviderFailure(FailureKind.UNAVAILABLE, f"unreadable answer: {type(exc).__name__}")


class AnthropicMessagesProvider:
    kind = "anthropic"

    def __init__(self, config: AiProviderConfig) -> None:
        self.name = config.label
        self.model = config.model
        key = config.api_key.get_secret_value() if config.api_key else _PLACEHOLDER_KEY
        self._client = anthropic.AsyncAnthropic(
            api_key=key, base_url=config.base_url, max_retries=0, timeout=config.timeout
        )

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_tokens,
            "system": request.system,
            "messages": [{"role": "user", "content": request.user}],
        }
        if request.json_schema is not None:
            params["output_config"] = {
                "format": {"type": "json_schema", "schema": request.json_schema}
            }
        correlation = current_correlation_id()
        if correlation:
            params["extra_headers"] = {CORRELATION_HEADER: correlation}
        return params

    async def complete(self, request: ChatRequest) -> Completion:
        try:
            reply = await self._client.messages.create(**self._params(request))
        except (anthropic.AnthropicError, ValueError) as exc:
            raise _failure(exc) from exc
        text = "".join(block.text for block in reply.content if block.type == "text")
        usage = Usage(reply.usage.input_tokens, reply.usage.output_tokens)
        return Completion(
            text, usage, self.name, reply.model or self.model, reply.stop_reason == "max_tokens"
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[Delta | StreamEnd]:
        end = StreamEnd()
        input_tokens = output_tokens = 0
        stopped = False
        try:
            stream = await self._client.messages.create(stream=True, **self._params(request))
            async for event in stream:
                if event.type == "message_start":
                    input_tokens = event.message.usage.input_tokens
                    output_tokens = event.message.usage.output_tokens
                elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                    yield Delta(event.delta.text)
                elif event.type == "message_delta":
                    # Cumulative: the last value is the count, never a sum.
                    output_tokens = event.usage.output_tokens
                    end.truncated = event.delta.stop_reason == "max_tokens"
                elif event.type == "message_stop":
                    stopped = True
        except (anthropic.AnthropicError, ValueError, json.JSONDecodeError) as exc:
            raise _failure(exc) from exc
        if not stopped:
            raise ProviderFailure(FailureKind.UNAVAILABLE, "stream ended early")
        end.usage = Usage(input_tokens, output_tokens)
        yield end

    async def aclose(self) -> None:
        await self._client.close()
