from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from allin.simulator.ai import SimState, create_anthropic_simulator, create_openai_simulator
from tests.support.server import serve


@dataclass
class Running:
    url: str
    state: SimState


@pytest.fixture
async def openai_sim() -> AsyncIterator[Running]:
    state = SimState(slow_seconds=1.0)
    async with serve(create_openai_simulator(state)) as url:
        yield Running(url, state)


@pytest.fixture
async def anthropic_sim() -> AsyncIterator[Running]:
    state = SimState(api_key="sk-ant-sim", slow_seconds=1.0)
    async with serve(create_anthropic_simulator(state)) as url:
        yield Running(url, state)
