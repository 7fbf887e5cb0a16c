"""The real LIVE client as the capture source, against the TikTok simulator on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from allin.app import create_app
from allin.core.config import Settings
from allin.live.capture import ClientSources
from allin.live.errors import AgeRestrictedError, UserNotFoundError, UserOfflineError
from allin.simulator.live.scenario import Scenario
from allin.simulator.live.server import RunningSimulator, run_simulator
from allin.simulator.live.simulator import Simulator, SimulatorConfig
from tests.auth.helpers import signed_in
from tests.live.capture.conftest import LIVE_TEST_SETTINGS
from tests.live.capture.support import eventually, sse_events
from tests.support.server import serve

FAST = Scenario(rates={"chat": 40.0, "gift": 5.0, "like": 10.0})


@pytest.fixture
async def simulator() -> AsyncIterator[RunningSimulator]:
    sim = Simulator(SimulatorConfig(seed=7, batch_window=0.01, close_grace=0.1))
    sim.add_room("fast_streamer", scenario=FAST)
    async with run_simulator(sim, log_level="warning") as running:
        yield running


def _pointed_at(simulator: RunningSimulator) -> dict[str, Any]:
    urls = simulator.urls
    return {"tiktok_web_url": urls.web, "tiktok_webcast_url": urls.webcast, "sign_url": urls.sign}


async def test_open_checks_the_room_before_any_session(
    make_settings: Callable[..., Settings], simulator: RunningSimulator
) -> None:
    sources = ClientSources.from_settings(make_settings(**_pointed_at(simulator)))
    opened = await sources.open("fast_streamer")
    try:
        assert opened.profile.display_name and opened.profile.avatar_url
        assert opened.room_id == str(simulator.simulator.room("fast_streamer").room_id)  # type: ignore[union-attr]
        events = opened.source.events()
        first = [await asyncio.wait_for(anext(events), 5) for _ in range(5)]
        assert {e.type for e in first} <= {"chat", "gift", "like", "join", "room_user"}
    finally:
        await opened.source.close()
    with pytest.raises(UserOfflineError):
        await sources.open("offline_streamer")
    with pytest.raises(UserNotFoundError):
        await sources.open("nobody_at_all")
    with pytest.raises(AgeRestrictedError):
        await sources.open("age_restricted_streamer")
    status = await sources.live_status(["fast_streamer", "offline_streamer", "nobody_at_all"])
    assert status == {"fast_streamer": True, "offline_streamer": False}


async def test_capture_through_the_app_with_the_real_client(
    make_settings: Callable[..., Settings], database_url: str, simulator: RunningSimulator
) -> None:
    settings = make_settings(
        database_url=database_url, **LIVE_TEST_SETTINGS, **_pointed_at(simulator)
    )
    app = create_app(settings)  # no test source: the app builds ClientSources from settings
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        alice = await signed_in(http, app)
        offline = await http.post(
            "/api/sessions", json={"username": "offline_streamer"}, headers=alice.headers
        )
        assert offline.status_code == 409 and offline.json()["error"]["code"] == "LIVE_USER_OFFLINE"
        created = await http.post(
            "/api/sessions", json={"username": "fast_streamer"}, headers=alice.headers
        )
        assert created.status_code == 201, created.text
        session_id = created.json()["data"]["id"]
        ids: list[int] = []
        async with http.stream(
            "GET", f"/api/sessions/{session_id}/stream", headers=alice.headers
        ) as response:
            async for event in sse_events(response):
                if event.id is not None:
                    ids.append(int(event.id))
                if len(ids) == 20:
                    simulator.simulator.end_stream("fast_streamer")
                if event.event == "status":
                    assert event.json() == {"status": "ended", "reason": "ended_by_host"}
                    break
        assert ids == sorted(ids) and len(set(ids)) == len(ids) >= 20

        async def ended() -> bool:
            data = (await http.get(f"/api/sessions/{session_id}", headers=alice.headers)).json()[
                "data"
            ]
            return bool(data["status"] == "ended")

        await eventually(ended)
        data = (await http.get(f"/api/sessions/{session_id}", headers=alice.headers)).json()["data"]
        assert data["end_reason"] == "ended_by_host" and data["total_events"] >= len(ids)
        assert data["streamer"]["display_name"]
