"""The Anthropic simulator through the official SDK and over raw HTTP (named SSE events)."""

from __future__ import annotations

import json

import anthropic
import httpx
import pytest

from allin.simulator.ai import Scenario
from tests.simulator.ai.conftest import Running

MESSAGES = [{"role": "user", "content": "Write a post about trail running in autumn"}]
HEADERS = {"x-api-key": "sk-ant-sim", "anthropic-version": "2026-10-21"}


def client(sim: Running, key: str = "sk-ant-sim") -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(api_key=key, base_url=sim.url, max_retries=0, timeout=1.0)


async def test_message_is_deterministic_labelled_and_counted(anthropic_sim: Running) -> None:
    sdk = client(anthropic_sim)
    first = await sdk.messages.create(
        model="claude-sim",
        max_tokens=200,
        system="You write social posts.",
        messages=MESSAGES,  # type: ignore[arg-type]
    )
    again = await sdk.messages.create(model="claude-sim", max_tokens=200, messages=MESSAGES)  # type: ignore[arg-type]
    block = first.content[0]
    assert block.type == "text" and block.text.startswith("[simulated]")
    assert "trail" in block.text
    assert again.content[0].type == "text" and again.content[0].text == block.text
    assert first.stop_reason == "end_turn"
    assert first.usage.output_tokens == -(-len(block.text) // 4)
    sent = anthropic_sim.state.requests[0].headers
    assert sent["anthropic-version"] == "2026-10-21" and sent["authorization"].startswith("Bearer")


async def test_max_tokens_cap_stops_with_max_tokens(anthropic_sim: Running) -> None:
    reply = await client(anthropic_sim).messages.create(
        model="claude-sim",
        max_tokens=2,
        messages=MESSAGES,  # type: ignore[arg-type]
    )
    assert reply.stop_reason == "max_tokens" and reply.usage.output_tokens == 2


async def test_structured_output_matches_schema(anthropic_sim: Running) -> None:
    schema = {
        "type": "object",
        "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 10}},
        "required": ["score"],
    }
    reply = await client(anthropic_sim).messages.create(
        model="claude-sim",
        max_tokens=200,
        messages=MESSAGES,  # type: ignore[arg-type]
        output_config={"format": {"type": "json_schema", "schema": schema}},
    )
    assert reply.content[0].type == "text"
    assert 1 <= json.loads(reply.content[0].text)["score"] <= 10


async def test_sdk_stream_text_and_final_usage(anthropic_sim: Running) -> None:
    stream = await client(anthropic_sim).messages.create(
        model="claude-sim",
        max_tokens=200,
        messages=MESSAGES,  # type: ignore[arg-type]
        stream=True,
    )
    parts, output_tokens = [], 0
    async for event in stream:
        if event.type == "content_block_delta" and event.delta.type == "text_delta":
            parts.append(event.delta.text)
        if event.type == "message_delta":
            output_tokens = event.usage.output_tokens
    assert "".join(parts).startswith("[simulated]")
    assert output_tokens == -(-len("".join(parts)) // 4)


async def test_raw_stream_event_names_and_order(anthropic_sim: Running) -> None:
    body = {"model": "claude-sim", "max_tokens": 100, "messages": MESSAGES, "stream": True}
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{anthropic_sim.url}/v1/messages", json=body, headers=HEADERS)
    frames = [f for f in response.text.split("\n\n") if f]
    names = []
    for frame in frames:
        event_line, data_line = frame.split("\n")
        name = event_line.removeprefix("event: ")
        assert json.loads(data_line.removeprefix("data: "))["type"] == name
        names.append(name)
    deltas = names.count("content_block_delta")
    assert deltas > 1
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * deltas,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]


async def test_version_header_required_and_sampling_refused(anthropic_sim: Running) -> None:
    body = {"model": "claude-sim", "max_tokens": 10, "messages": MESSAGES}
    async with httpx.AsyncClient() as http:
        url = f"{anthropic_sim.url}/v1/messages"
        no_version = await http.post(url, json=body, headers={"x-api-key": "sk-ant-sim"})
        hot = await http.post(url, json={**body, "temperature": 1.0}, headers=HEADERS)
        old = await http.post(
            url,
            json={**body, "temperature": 1.0},
            headers={**HEADERS, "anthropic-version": "2023-06-01"},
        )
        no_max = await http.post(url, json={"model": "m", "messages": MESSAGES}, headers=HEADERS)
    assert no_version.status_code == 400 and hot.status_code == 400 and no_max.status_code == 400
    assert "temperature" in hot.json()["error"]["message"]
    assert old.status_code == 200
    assert no_max.json()["type"] == "error" and no_max.json()["request_id"].startswith("req_")


async def test_bad_key_is_authentication_error(anthropic_sim: Running) -> None:
    with pytest.raises(anthropic.AuthenticationError):
        await client(anthropic_sim, "nope").messages.create(
            model="claude-sim",
            max_tokens=10,
            messages=MESSAGES,  # type: ignore[arg-type]
        )


@pytest.mark.parametrize(
    ("scenario", "error", "status"),
    [
        (Scenario.OVERLOADED, anthropic.OverloadedError, 529),
        (Scenario.SERVER_ERROR, anthropic.InternalServerError, 500),
        (Scenario.BILLING, anthropic.PaymentRequiredError, 402),
        (Scenario.TOO_LARGE, anthropic.ContentTooLargeError, 413),
        (Scenario.RATE_LIMIT, anthropic.RateLimitError, 429),
    ],
)
async def test_faults(
    anthropic_sim: Running, scenario: Scenario, error: type[anthropic.APIStatusError], status: int
) -> None:
    anthropic_sim.state.then(scenario)
    with pytest.raises(error) as caught:
        await client(anthropic_sim).messages.create(
            model="claude-sim",
            max_tokens=10,
            messages=MESSAGES,  # type: ignore[arg-type]
        )
    assert caught.value.status_code == status
    assert caught.value.response.headers["request-id"].startswith("req_")
    if status == 429:
        headers = caught.value.response.headers
        assert headers["retry-after"] == "1"
        assert headers["anthropic-ratelimit-requests-remaining"] == "0"


async def test_midstream_overloaded_error_event(anthropic_sim: Running) -> None:
    anthropic_sim.state.then(Scenario.MIDSTREAM_ERROR)
    stream = await client(anthropic_sim).messages.create(
        model="claude-sim",
        max_tokens=100,
        messages=MESSAGES,  # type: ignore[arg-type]
        stream=True,
    )
    with pytest.raises(anthropic.APIStatusError) as caught:
        async for _ in stream:
            pass
    assert caught.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]


async def test_count_tokens(anthropic_sim: Running) -> None:
    counted = await client(anthropic_sim).messages.count_tokens(
        model="claude-sim",
        messages=MESSAGES,  # type: ignore[arg-type]
    )
    assert counted.input_tokens == -(-len(MESSAGES[0]["content"]) // 4)
