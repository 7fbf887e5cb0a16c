"""Random socket drops (seeded) while a busy room streams: the client loses nothing and
emits nothing twice, even though TikTok's side replays events on every resume."""

from __future__ import annotations

import asyncio
import random
from contextlib import aclosing
from dataclasses import replace

import pytest

from allin.live.client import LiveClient
from allin.live.protocol import LiveEvent
from tests.simulator.live.support import FAST, STREAMER, assert_contiguous, options, simulated

pytestmark = pytest.mark.timeout(30)
EVENTS = 250


async def _chaos(running_sim: object, rng: random.Random, drops: list[int]) -> None:
    from allin.simulator.live.simulator import Simulator

    assert isinstance(running_sim, Simulator)
    while True:
        await asyncio.sleep(rng.uniform(0.05, 0.35))
        drops.append(running_sim.drop_sockets())


@pytest.mark.parametrize("seed", [11, 22, 33])
async def test_random_drops_lose_and_duplicate_nothing(seed: int) -> None:
    rng = random.Random(seed)
    config = replace(FAST, replay_on_resume=5)
    async with simulated(config, seed=seed) as running:
        sim = running.simulator
        client = LiveClient(STREAMER, options=options(running.urls, seed=seed))
        received: list[LiveEvent] = []
        drops: list[int] = []
        chaos: asyncio.Task[None] | None = None
        async with aclosing(client.events()) as events:
            async for event in events:
                received.append(event)
                if chaos is None:
                    chaos = asyncio.create_task(_chaos(sim, rng, drops))
                if len(received) >= EVENTS:
                    break
        assert chaos is not None
        chaos.cancel()
        room = sim.room(STREAMER)
        assert room is not None
        assert_contiguous(room, received)
    dropped = sum(drops)
    assert dropped >= 2, "the chaos must actually have cut sockets"
    assert client.status.reconnects >= dropped - 1
    # Resumed sockets replayed already-delivered events; none of them came out twice.
    resumed = [c for c in sim.connections[1:] if c.sent_frames]
    assert resumed
