"""The upstream signer against real providers on loopback: a second AllIN instance (sign_url)
and the simulator's EulerStream-compatible side (fetch), failing over in order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from allin.core.domain import app_state
from allin.live.protocol import decode_fetch_result
from allin.sign.access import SignAccess
from allin.sign.models import SignUsage
from allin.sign.upstream import signed_url_from
from allin.simulator.live.server import RunningSimulator
from allin.simulator.live.simulator import DEMO_STREAMER, Simulator
from tests.sign.service.conftest import SAMPLE_URL, make_key
from tests.support.server import free_port

DEAD = f"http://127.0.0.1:{free_port()}"  # nothing listens there


def upstreams(*entries: tuple[str, str | None]) -> list[dict[str, Any]]:
    return [{"url": url, "api_key": key} for url, key in entries]


async def test_signs_through_the_first_working_provider(served: Callable[..., Any]) -> None:
    async with served() as (_provider, provider_client):
        base = str(provider_client.base_url)
        async with served(
            signer="upstream", sign_upstreams=upstreams((DEAD, None), (base, None))
        ) as (
            _,
            client,
        ):
            seed = await client.post("/api/eulerstream", json={"url": SAMPLE_URL})
            euler = await client.post("/webcast/sign_url", json={"url": SAMPLE_URL})
            health = (await client.get("/api/health")).json()
    assert seed.status_code == 200, seed.text
    data = seed.json()["data"]
    assert data["signer"] == "upstream"
    assert "msToken=" in data["signed_url"] and data["X-Bogus"] in data["signed_url"]
    assert euler.json()["response"]["tokens"]["msToken"]
    assert health["signature_generator_ready"] is True
    assert health["services"]["signer"]["upstreams"] == [DEAD, base]


async def test_fails_over_on_429_and_refused_keys(served: Callable[..., Any]) -> None:
    async with (
        served(sign_anonymous_limit="1/hour") as (_, stingy),
        served(sign_require_api_key=True) as (keyed_app, keyed),
    ):
        raw, key_id, _ = await make_key(keyed_app)
        chain = upstreams(
            (str(stingy.base_url), None), (str(keyed.base_url), "wrong"), (str(keyed.base_url), raw)
        )
        async with served(signer="upstream", sign_upstreams=chain, sign_cache_ttl=0) as (_, client):
            first = await client.post("/api/sign", json={"url": SAMPLE_URL})
            second = await client.post("/api/sign", json={"url": SAMPLE_URL})
        await app_state(keyed_app).get(SignAccess).usage.flush()
        async with app_state(keyed_app).session_factory() as db:
            usage = list(await db.scalars(select(SignUsage)))
    assert first.status_code == second.status_code == 200
    assert first.json()["data"]["msToken"] != second.json()["data"]["msToken"]
    # The first came from the stingy provider; the second, after its 429 and the wrong key's
    # 401, from the keyed provider with the right key (its usage table says so).
    assert [(u.api_key_id, u.requests) for u in usage] == [(key_id, 1)]


async def test_every_provider_down_is_503(served: Callable[..., Any]) -> None:
    async with served(signer="upstream", sign_upstreams=upstreams((DEAD, "k"))) as (_, client):
        response = await client.post("/api/eulerstream", json={"url": SAMPLE_URL})
        invalid = await client.post("/api/eulerstream", json={"url": "https://evil.org/"})
        health = (await client.get("/api/health")).json()
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "Service temporarily unavailable"
    assert DEAD in body["message"]
    assert invalid.status_code == 400  # validated here, before any provider is asked
    assert health["signature_generator_ready"] is False
    assert health["status"] == "degraded"


async def test_fetch_is_relayed_with_failover(
    served: Callable[..., Any], running_sim: RunningSimulator, sim: Simulator
) -> None:
    room = sim.room(DEMO_STREAMER)
    assert room is not None
    sim.faults.sign_rate_limits = 1  # the simulator's sign side answers one 429 first
    chain = upstreams((DEAD, None), (running_sim.urls.sign, "k"), (running_sim.urls.sign, "k"))
    async with served(signer="upstream", sign_upstreams=chain) as (_, client):
        response = await client.get("/webcast/fetch", params={"room_id": room.room_id})
        by_name = await client.get(f"/webcast/rooms/{room.room_id}/connect")
    for answer in (response, by_name):
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-set-tt-cookie"].startswith("ttwid=")
        assert decode_fetch_result(answer.content).push_server
    assert sim.faults.sign_rate_limits == 0


async def test_fetch_with_every_provider_down(served: Callable[..., Any]) -> None:
    async with served(signer="upstream", sign_upstreams=upstreams((DEAD, None))) as (_, client):
        response = await client.get("/webcast/fetch", params={"room_id": "1"})
    assert response.status_code == 503
    assert response.json()["message"].startswith("Every upstream provider failed")


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ({"signedUrl": "https://www.tiktok.com/x?X-Bogus=a"}, "msToken"),
        ({"signedUrl": 3}, "msToken"),
    ],
)
def test_unusable_answers_are_provider_failures(answer: dict[str, Any], problem: str) -> None:
    from allin.sign.upstream import ProviderFailed

    with pytest.raises(ProviderFailed, match=problem):
        signed_url_from(answer, "UA")


def test_tokens_missing_from_the_answer_are_read_off_the_url() -> None:
    signed = signed_url_from(
        {"signedUrl": "https://www.tiktok.com/api/x?a=1&msToken=tok&X-Bogus=bog"}, "UA"
    )
    assert (signed.ms_token, signed.x_bogus, signed.signature, signed.user_agent) == (
        "tok",
        "bog",
        "bog",
        "UA",
    )
    assert signed.x_tt_params
