"""Shared by the simulator, client and fetch-endpoint tests: a fast simulator on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from allin.live.client import LiveClientOptions
from allin.live.protocol import LiveEvent
from allin.simulator.live.rooms import Room
from allin.simulator.live.scenario import DEFAULT_RATES, Scenario
from allin.simulator.live.server import RunningSimulator, SimulatorUrls, run_simulator
from allin.simulator.live.simulator import Simulator, SimulatorConfig

# TikTok's behaviour with the clock sped up: heartbeats every 0.2 s, polls every 0.1 s.
FAST = SimulatorConfig(
    heartbeat_interval=0.2,
    batch_window=0.01,
    fetch_interval_ms=100,
    close_grace=0.1,
)
# A busy room: about 100 events/s of every kind, streaks of a few gifts 50 ms apart.
BUSY = Scenario(
    rates={kind: 100 * rate / sum(DEFAULT_RATES.values()) for kind, rate in DEFAULT_RATES.items()},
    viewer_interval=0.5,
    streak_gap=0.05,
    start_delay=0.3,
)
STREAMER = "busy_streamer"


@asynccontextmanager
async def simulated(
    config: SimulatorConfig = FAST, scenario: Scenario = BUSY, seed: int = 7
) -> AsyncIterator[RunningSimulator]:
    sim = Simulator(config)
    sim.add_room(STREAMER, scenario=scenario, seed=seed)
    async with run_simulator(sim, log_level="warning") as running:
        yield running


def options(urls: SimulatorUrls, **overrides: Any) -> LiveClientOptions:
    """A client pointed at the simulator, with test-sized backoff and stall detection."""
    base = LiveClientOptions(
        web_url=urls.web,
        webcast_url=urls.webcast,
        sign_url=urls.sign,
        backoff_base=0.02,
        backoff_max=0.2,
        stall_timeout=1.0,
        seed=1,
    )
    return replace(base, **overrides)


def assert_contiguous(room: Room, received: list[LiveEvent]) -> int:
    """`received` is exactly a run of the room's timeline: same events, same order, none
    missing, none twice. Returns the index it starts at."""
    ids = [e.msg_id for e in received]
    assert len(ids) == len(set(ids)), "an event was delivered twice"
    timeline = [item.event for item in room.events]
    positions = {event.msg_id: n for n, event in enumerate(timeline)}
    start = positions[ids[0]]
    expected = timeline[start : start + len(received)]
    assert [e.msg_id for e in expected] == ids, "events missing or out of order"
    assert [e.to_dict() for e in received] == [e.to_dict() for e in expected]
    return start
