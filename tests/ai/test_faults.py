"""Fallback order, breakers, retry-after, streams that break, malformed answers: through our
API, the official SDKs and the simulators' fault switches."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from allin.core.clock import Clock, clock
from allin.core.config import Settings
from allin.simulator.ai import Scenario
from tests.ai.conftest import Sims, sse_events
from tests.auth.helpers import SignedIn

BODY = {"content": "Our new bakery opens Saturday in Lyon", "goal": "shorter", "platform": "x"}
ANALYZE = {"content": "Our new bakery opens Saturday in Lyon", "platform": "x"}


class Moved:
    offset = 0.0


@pytest.fixture
def moved(monkeypatch: pytest.MonkeyPatch) -> Moved:
    state = Moved()
    monkeypatch.setattr(clock, "monotonic", lambda: Clock.monotonic(clock) + state.offset)
    return state


def order(sims: Sims) -> list[str]:
    return [f"openai:{r.scenario}" for r in sims.openai.requests] + [
        f"anthropic:{r.scenario}" for r in sims.anthropic.requests
    ]


async def improve(client: httpx.AsyncClient, user: SignedIn) -> httpx.Response:
    return await client.post("/api/ai/improve-content", json=BODY, headers=user.headers)


async def credits(client: httpx.AsyncClient, user: SignedIn) -> dict[str, int]:
    data: dict[str, int] = (await client.get("/api/ai/credits", headers=user.headers)).json()[
        "data"
    ]
    return data


@pytest.mark.parametrize(
    "scenario",
    [Scenario.SERVER_ERROR, Scenario.OVERLOADED, Scenario.SLOW, Scenario.QUOTA, Scenario.NOT_FOUND],
)
async def test_falls_back_to_anthropic(
    client: httpx.AsyncClient, alice: SignedIn, sims: Sims, scenario: Scenario
) -> None:
    sims.openai.then(scenario)
    response = await improve(client, alice)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["usage"]["provider"] == "anthropic"
    assert order(sims) == [f"openai:{scenario}", "anthropic:ok"]


async def test_bad_key_falls_back(client: httpx.AsyncClient, alice: SignedIn, sims: Sims) -> None:
    sims.openai.api_key = "sk-rotated"
    response = await improve(client, alice)
    assert response.json()["data"]["usage"]["provider"] == "anthropic"


async def test_bad_request_does_not_fall_back(
    client: httpx.AsyncClient, alice: SignedIn, sims: Sims
) -> None:
    sims.openai.then(Scenario.BAD_REQUEST)
    response = await improve(client, alice)
    assert response.status_code == 502 and response.json()["error"]["code"] == "AI_003"
    assert not sims.anthropic.requests
    assert (await credits(client, alice))["used"] == 0


async def test_every_provider_down_is_503_listing_them(
    client: httpx.AsyncClient, alice: SignedIn, sims: Sims
) -> None:
    sims.openai.then(Scenario.SERVER_ERROR)
    sims.anthropic.then(Scenario.OVERLOADED)
    response = await improve(client, alice)
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "AI_001"
    assert [(t["provider"], t.get("status")) for t in error["details"]["tried"]] == [
        ("openai", 500),
        ("anthropic", 529),
    ]
    assert (await credits(client, alice))["used"] == 0


async def test_429_cools_down_within_the_bound(
    ai_settings: Callable[..., Settings], sims: Sims, moved: Moved
) -> None:
    from allin.app import create_app
    from tests.auth.helpers import signed_in
    from tests.support.server import serve

    app: FastAPI = create_app(ai_settings(ai_retry_after_max=5.0))
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        user = await signed_in(client, app)
        sims.openai.then(Scenario.RATE_LIMIT_LONG)  # retry-after: 3600
        assert (await improve(client, user)).json()["data"]["usage"]["provider"] == "anthropic"
        await improve(client, user)  # openai is cooling down: not asked
        assert len(sims.openai.requests) == 1 and len(sims.anthropic.requests) == 2
        health = (await client.get("/api/health/ai")).json()["data"]["providers"][0]
        assert health["cooling_down"] is True and health["breaker"] == "CLOSED"
        moved.offset = 5.1  # the bound, not the hour the header asked for
        assert (await improve(client, user)).json()["data"]["usage"]["provider"] == "openai"


async def test_breaker_opens_and_skips_a_failing_provider(
    client: httpx.AsyncClient, alice: SignedIn, sims: Sims, moved: Moved
) -> None:
    sims.openai.scenario = Scenario.SERVER_ERROR
    for _ in range(3):
        await improve(client, alice)
    assert len(sims.openai.requests) == 3
    await improve(client, alice)
    assert len(sims.openai.requests) == 3  # open: skipped without a call
    health = (await client.get("/api/health/ai")).json()["data"]["providers"][0]
    assert health["breaker"] == "OPEN" and health["last_success"] is None
    sims.openai.scenario = Scenario.OK
    moved.offset = 31  # reset timeout: one probe closes it again
    assert (await improve(client, alice)).json()["data"]["usage"]["provider"] == "openai"
    health = (await client.get("/api/health/ai")).json()["data"]["providers"][0]
    assert health["breaker"] == "CLOSED" and health["last_success"] is not None


@pytest.mark.parametrize("scenario", [Scenario.MIDSTREAM_ERROR, Scenario.CUT, Scenario.GARBAGE])
@pytest.mark.parametrize("first", ["openai", "anthropic"])
async def test_stream_breaking_after_tokens_is_a_clean_error_and_refunded(
    ai_settings: Callable[..., Settings], sims: Sims, scenario: Scenario, first: str
) -> None:
    from allin.app import create_app
    from tests.auth.helpers import signed_in
    from tests.support.server import serve

    app: FastAPI = create_app(ai_settings(ai_providers=sims.providers(first, timeout=2.0)))
    state = sims.openai if first == "openai" else sims.anthropic
    state.then(scenario)
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        user = await signed_in(client, app)
        response = await client.post(
            "/api/ai/improve-content/stream", json=BODY, headers=user.headers
        )
        events = sse_events(response.text)
        assert [name for name, _ in events[:1]] == ["delta"]
        name, error = events[-1]
        assert name == "error" and error["code"] == "AI_007", events
        assert [n for n, _ in events].count("error") == 1
        balance = await credits(client, user)
        assert balance["used"] == 0 and balance["reserved"] == 0


@pytest.mark.parametrize("scenario", [Scenario.OVERLOADED, Scenario.SLOW, Scenario.RATE_LIMIT])
async def test_stream_falls_back_before_the_first_token(
    client: httpx.AsyncClient, alice: SignedIn, sims: Sims, scenario: Scenario
) -> None:
    sims.openai.then(scenario)
    response = await client.post("/api/ai/improve-content/stream", json=BODY, headers=alice.headers)
    events = sse_events(response.text)
    assert events[-1][0] == "done" and events[-1][1]["usage"]["provider"] == "anthropic"


async def test_stream_all_down_is_an_error_event(
    client: httpx.AsyncClient, alice: SignedIn, sims: Sims
) -> None:
    sims.openai.then(Scenario.SERVER_ERROR)
    sims.anthropic.then(Scenario.OVERLOADED)
    response = await client.post("/api/ai/improve-content/stream", json=BODY, headers=alice.headers)
    events = sse_events(response.text)
    assert [name for name, _ in events] == ["error"]
    error = events[0][1]
    assert error["code"] == "AI_001"
    assert [t["provider"] for t in error["details"]["tried"]] == ["openai", "anthropic"]


async def test_malformed_assessment_is_retried_once(
    client: httpx.AsyncClient, alice: SignedIn, sims: Sims
) -> None:
    sims.openai.then(Scenario.GARBAGE)
    response = await client.post("/api/ai/analyze-content", json=ANALYZE, headers=alice.headers)
    assert response.status_code == 200, response.text
    assert len(sims.openai.requests) == 2


async def test_malformed_twice_is_reported_never_passed_through(
    client: httpx.AsyncClient, alice: SignedIn, sims: Sims
) -> None:
    sims.openai.then(Scenario.GARBAGE, Scenario.GARBAGE)
    response = await client.post("/api/ai/analyze-content", json=ANALYZE, headers=alice.headers)
    assert response.status_code == 502 and response.json()["error"]["code"] == "AI_004"
    assert "not the JSON" not in response.text
    assert (await credits(client, alice))["used"] == 0


async def test_client_leaving_mid_stream_is_refunded(
    client: httpx.AsyncClient, alice: SignedIn, sims: Sims
) -> None:
    import asyncio

    sims.openai.token_delay = 0.2
    async with client.stream(
        "POST", "/api/ai/improve-content/stream", json=BODY, headers=alice.headers
    ) as response:
        async for line in response.aiter_lines():
            if line.startswith("event: delta"):
                break  # leave after the first token
    for _ in range(100):
        balance = await credits(client, alice)
        if balance["reserved"] == 0:
            break
        await asyncio.sleep(0.05)
    assert balance["reserved"] == 0 and balance["used"] == 0
