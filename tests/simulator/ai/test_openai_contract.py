"""The OpenAI simulator through the official SDK and over raw HTTP (exact SSE framing)."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from allin.simulator.ai import Scenario
from tests.simulator.ai.conftest import Running

MESSAGES = [
    {"role": "system", "content": "You write social posts."},
    {"role": "user", "content": "Write a post about sourdough baking for beginners"},
]


def client(sim: Running, key: str = "sk-sim") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key=key, base_url=f"{sim.url}/v1", max_retries=0, timeout=1.0)


async def test_completion_is_deterministic_labelled_and_counted(openai_sim: Running) -> None:
    sdk = client(openai_sim)
    first = await sdk.chat.completions.create(model="gpt-sim", messages=MESSAGES)  # type: ignore[arg-type]
    again = await sdk.chat.completions.create(model="gpt-sim", messages=MESSAGES)  # type: ignore[arg-type]
    text = first.choices[0].message.content or ""
    assert text == again.choices[0].message.content
    assert text.startswith("[simulated]") and "sourdough" in text
    assert first.object == "chat.completion" and first.choices[0].finish_reason == "stop"
    assert first.usage is not None and first.usage.completion_tokens == -(-len(text) // 4)
    assert first.usage.total_tokens == first.usage.prompt_tokens + first.usage.completion_tokens


async def test_max_tokens_cap_finishes_with_length(openai_sim: Running) -> None:
    reply = await client(openai_sim).chat.completions.create(
        model="gpt-sim",
        messages=MESSAGES,  # type: ignore[arg-type]
        max_completion_tokens=3,
    )
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage is not None and reply.usage.completion_tokens == 3


async def test_json_schema_answer_matches_the_schema(openai_sim: Running) -> None:
    schema = {
        "type": "object",
        "properties": {
            "score": {"type": "integer", "minimum": 0, "maximum": 100},
            "tips": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "risk": {"type": "string", "enum": ["low", "high"]},
        },
        "required": ["score", "tips", "risk"],
        "additionalProperties": False,
    }
    reply = await client(openai_sim).chat.completions.create(
        model="gpt-sim",
        messages=MESSAGES,  # type: ignore[arg-type]
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "a", "schema": schema, "strict": True},
        },
    )
    data = json.loads(reply.choices[0].message.content or "")
    assert 0 <= data["score"] <= 100 and len(data["tips"]) == 2 and data["risk"] == "low"


async def test_sdk_stream_delivers_text_and_usage(openai_sim: Running) -> None:
    stream = await client(openai_sim).chat.completions.create(
        model="gpt-sim",
        messages=MESSAGES,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    )
    parts, usage = [], None
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
        if chunk.usage is not None:
            usage = chunk.usage
    assert "".join(parts).startswith("[simulated]")
    assert usage is not None and usage.completion_tokens == -(-len("".join(parts)) // 4)


async def test_raw_stream_framing_and_order(openai_sim: Running) -> None:
    body = {
        "model": "gpt-sim",
        "messages": MESSAGES,
        "stream": True,
        "stream_options": {"include_usage": True, "include_obfuscation": False},
    }
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{openai_sim.url}/v1/chat/completions",
            json=body,
            headers={"Authorization": "Bearer sk-sim"},
        )
    assert response.headers["content-type"].startswith("text/event-stream")
    events = response.text.split("\n\n")
    assert events[-1] == "" and events[-2] == "data: [DONE]"
    assert all(e.startswith("data: ") and "\n" not in e for e in events[:-1])  # no event: lines
    chunks = [json.loads(e[6:]) for e in events[:-2]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-2]["choices"][0]["delta"] == {}
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
    assert all(c["usage"] is None for c in chunks[:-1])
    assert all("obfuscation" not in c for c in chunks)


async def test_without_include_usage_no_usage_chunk(openai_sim: Running) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{openai_sim.url}/v1/chat/completions",
            json={"model": "gpt-sim", "messages": MESSAGES, "stream": True},
            headers={"Authorization": "Bearer sk-sim"},
        )
    chunks = [json.loads(e[6:]) for e in response.text.split("\n\n")[:-2]]
    assert all("usage" not in c and c["choices"] for c in chunks)
    assert all("obfuscation" in c for c in chunks)


async def test_bad_key_is_401_invalid_api_key(openai_sim: Running) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        await client(openai_sim, "sk-wrong-key-123").chat.completions.create(
            model="gpt-sim",
            messages=MESSAGES,  # type: ignore[arg-type]
        )
    assert caught.value.body["code"] == "invalid_api_key"  # type: ignore[index]


async def test_rate_limit_carries_retry_after_and_limit_headers(openai_sim: Running) -> None:
    openai_sim.state.then(Scenario.RATE_LIMIT)
    with pytest.raises(openai.RateLimitError) as caught:
        await client(openai_sim).chat.completions.create(model="gpt-sim", messages=MESSAGES)  # type: ignore[arg-type]
    headers = caught.value.response.headers
    assert headers["retry-after"] == "1" and headers["x-ratelimit-remaining-requests"] == "0"
    assert caught.value.body["code"] == "rate_limit_exceeded"  # type: ignore[index]


@pytest.mark.parametrize(
    ("scenario", "error", "status"),
    [
        (Scenario.SERVER_ERROR, openai.InternalServerError, 500),
        (Scenario.OVERLOADED, openai.InternalServerError, 503),
        (Scenario.QUOTA, openai.RateLimitError, 429),
        (Scenario.NOT_FOUND, openai.NotFoundError, 404),
    ],
)
async def test_faults_by_model_name(
    openai_sim: Running, scenario: Scenario, error: type[openai.APIStatusError], status: int
) -> None:
    with pytest.raises(error) as caught:
        await client(openai_sim).chat.completions.create(
            model=f"sim-{scenario.value}",
            messages=MESSAGES,  # type: ignore[arg-type]
        )
    assert caught.value.status_code == status


async def test_sdk_retries_are_visible_in_the_log(openai_sim: Running) -> None:
    openai_sim.state.then(Scenario.SERVER_ERROR)
    sdk = openai.AsyncOpenAI(api_key="sk-sim", base_url=f"{openai_sim.url}/v1", max_retries=1)
    await sdk.chat.completions.create(model="gpt-sim", messages=MESSAGES)  # type: ignore[arg-type]
    assert [r.retry_count for r in openai_sim.state.requests] == [0, 1]


async def test_slow_reply_times_out_the_client(openai_sim: Running) -> None:
    openai_sim.state.then(Scenario.SLOW)
    sdk = openai.AsyncOpenAI(
        api_key="sk-sim", base_url=f"{openai_sim.url}/v1", max_retries=0, timeout=0.2
    )
    with pytest.raises(openai.APITimeoutError):
        await sdk.chat.completions.create(model="gpt-sim", messages=MESSAGES)  # type: ignore[arg-type]


async def test_midstream_error_raises_in_the_sdk(openai_sim: Running) -> None:
    openai_sim.state.then(Scenario.MIDSTREAM_ERROR)
    stream = await client(openai_sim).chat.completions.create(
        model="gpt-sim",
        messages=MESSAGES,  # type: ignore[arg-type]
        stream=True,
    )
    with pytest.raises(openai.APIError, match="streaming"):
        async for _ in stream:
            pass


async def test_cut_stream_has_no_terminator(openai_sim: Running) -> None:
    openai_sim.state.then(Scenario.CUT)
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{openai_sim.url}/v1/chat/completions",
            json={"model": "gpt-sim", "messages": MESSAGES, "stream": True},
            headers={"Authorization": "Bearer sk-sim"},
        )
    assert "[DONE]" not in response.text and '"finish_reason":"stop"' not in response.text


async def test_malformed_json_body_is_400(openai_sim: Running) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{openai_sim.url}/v1/chat/completions",
            content=b"{nope",
            headers={"Authorization": "Bearer sk-sim", "content-type": "application/json"},
        )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_models_list(openai_sim: Running) -> None:
    models = await client(openai_sim).models.list()
    assert [m.id async for m in models] == ["gpt-sim"]
