"""OpenAI Chat Completions through the official `openai` SDK; also every OpenAI-compatible
server (Ollama, vLLM, LM Studio, llama.cpp), which speak this API at their own base URL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import openai

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

_PLACEHOLDER_KEY = "not-needed"  # local servers ignore keys; the SDK wants one


def _failure(exc: Exception) -> ProviderFailure:
    if isinstance(exc, openai.APIStatusError):
        retry_after = parse_retry_after(exc.response.headers)
        return failure_for_status(exc.status_code, exc.message, retry_after)
    if isinstance(exc, openai.APITimeoutError):
        return ProviderFailure(FailureKind.UNAVAILABLE, "timed out")
    if isinstance(exc, openai.APIConnectionError):
        return ProviderFailure(FailureKind.UNAVAILABLE, "connection failed")
    if isinstance(exc, openai.APIError):  # an error object inside the stream
        return ProviderFailure(FailureKind.UNAVAILABLE, f"stream error: {exc.message}")
    return ProviderFailure(FailureKind.UNAVAILABLE, f"unreadable answer: {type(exc).__name__}")


class OpenAIChatProvider:
    kind = "openai"

    def __init__(self, config: AiProviderConfig) -> None:
        self.name = config.label
        self.model = config.model
        key = config.api_key.get_secret_value() if config.api_key else _PLACEHOLDER_KEY
        self._client = openai.AsyncOpenAI(
            api_key=key, base_url=config.base_url, max_retries=0, timeout=config.timeout
        )
        # api.openai.com wants max_completion_tokens; the local servers document max_tokens only.
        official = config.base_url is None or "api.openai.com" in config.base_url
        self._cap_field = "max_completion_tokens" if official else "max_tokens"

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": request.system},
                {"role": "user", "content": request.user},
            ],
            self._cap_field: request.max_tokens,
        }
        if request.json_schema is not None:
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema_name,
                    "schema": request.json_schema,
                    "strict": True,
                },
            }
        correlation = current_correlation_id()
        if correlation:
            params["extra_headers"] = {CORRELATION_HEADER: correlation}
        return params

    async def complete(self, request: ChatRequest) -> Completion:
        try:
            reply = await self._client.chat.completions.create(**self._params(request))
        except (openai.OpenAIError, ValueError) as exc:
            raise _failure(exc) from exc
        if not reply.choices:
            raise ProviderFailure(FailureKind.UNAVAILABLE, "answer without choices")
        choice = reply.choices[0]
        usage = Usage(
            reply.usage.prompt_tokens if reply.usage else 0,
            reply.usage.completion_tokens if reply.usage else 0,
        )
        return Completion(
            choice.message.content or "",
            usage,
            self.name,
            reply.model or self.model,
            truncated=choice.finish_reason == "length",
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[Delta | StreamEnd]:
        params = self._params(request)
        params["stream_options"] = {"include_usage": True}
        end = StreamEnd()
        finished = False
        try:
            stream = await self._client.chat.completions.create(stream=True, **params)
            async for chunk in stream:
                if chunk.usage is not None:
                    end.usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in chunk.choices:
                    if choice.delta.content:
                        yield Delta(choice.delta.content)
                    if choice.finish_reason is not None:
                        finished = True
                        end.truncated = choice.finish_reason == "length"
        except (openai.OpenAIError, ValueError, json.JSONDecodeError) as exc:
            raise _failure(exc) from exc
        if not finished:  # cut without a finish chunk: the answer is incomplete
            raise ProviderFailure(FailureKind.UNAVAILABLE, "stream ended early")
        yield end

    async def aclose(self) -> None:
        await self._client.close()
