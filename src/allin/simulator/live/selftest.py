"""The simulated TikTok the sign self-test runs against: a fresh simulator on loopback with
its demo streamer live."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from allin.sign.selftest import SimulatedRoom, SimulatedTikTok
from allin.sign.service import TikTokHosts
from allin.simulator.live.server import run_simulator
from allin.simulator.live.simulator import DEMO_STREAMER, Simulator


@asynccontextmanager
async def start_simulated_room() -> AsyncIterator[SimulatedRoom]:
    sim = Simulator()
    async with run_simulator(sim, log_level="warning") as running:
        room = sim.room(DEMO_STREAMER)
        assert room is not None  # every simulator starts with its demo streamer live
        hosts = TikTokHosts(running.urls.web, running.urls.webcast)
        yield SimulatedRoom(hosts, DEMO_STREAMER, room.room_id)


SIMULATED_TIKTOK = SimulatedTikTok(start_simulated_room)
