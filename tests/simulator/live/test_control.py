"""The simulator's own control API, for people testing bots against `allin simulator serve`."""

from __future__ import annotations

import asyncio
from contextlib import aclosing

import httpx
import pytest

from allin.live.client import LiveClient
from allin.live.errors import SignRateLimitedError
from allin.live.protocol import LiveEvent
from tests.simulator.live.support import STREAMER, options, simulated

pytestmark = pytest.mark.timeout(30)


async def test_rooms_can_be_listed_and_added() -> None:
    async with simulated() as running, httpx.AsyncClient(base_url=running.urls.web) as http:
        created = await http.post(
            "/_simulator/rooms",
            json={"username": "@My_Bot_Test", "seed": 5, "duration": 60, "rates": {"chat": 3}},
        )
        assert created.status_code == 201
        assert created.json()["username"] == "my_bot_test" and created.json()["live"]
        names = {r["username"] for r in (await http.get("/_simulator/rooms")).json()}
        assert {"demo_streamer", "offline_streamer", STREAMER, "my_bot_test"} <= names
        bad = await http.post("/_simulator/rooms", json={"username": "x", "rates": {"dance": 1}})
        assert bad.status_code == 422
        missing = await http.post("/_simulator/faults", json={"action": "end", "username": "ghost"})
        assert missing.status_code == 404


async def test_faults_over_http_reach_a_connected_client() -> None:
    async with simulated() as running, httpx.AsyncClient(base_url=running.urls.web) as http:
        client = LiveClient(STREAMER, options=options(running.urls))
        received: list[LiveEvent] = []
        async with aclosing(client.events()) as events:
            async for event in events:
                received.append(event)
                if len(received) == 5:
                    drop = await http.post("/_simulator/faults", json={"action": "drop"})
                    assert drop.json() == {"action": "drop", "affected": 1}
                    await http.post(
                        "/_simulator/faults", json={"action": "unknown", "username": STREAMER}
                    )
                    await http.post(
                        "/_simulator/faults", json={"action": "end", "username": STREAMER}
                    )
        assert received[-1].type == "control"
        assert any(e.type == "unknown" for e in received)
        assert client.status.reconnects == 1
        assert client.close_reason == "ended_by_host"


async def test_sign_and_handshake_faults_over_http() -> None:
    async with simulated() as running, httpx.AsyncClient(base_url=running.urls.web) as http:
        await http.post("/_simulator/faults", json={"action": "sign_429", "seconds": 9})
        with pytest.raises(SignRateLimitedError) as info:
            async with aclosing(
                LiveClient(STREAMER, options=options(running.urls)).events()
            ) as events:
                await anext(events)
        assert info.value.retry_after == 9
        await http.post(
            "/_simulator/faults",
            json={
                "action": "reject_ws",
                "handshake_msg": "illegal app_id",
                "handshake_status": "417",
            },
        )
        client = LiveClient(STREAMER, options=options(running.urls))
        async with aclosing(client.events()) as events, asyncio.timeout(10):
            while client.status.transport != "polling":
                await anext(events)
        assert running.simulator.rejected_handshakes == 1
