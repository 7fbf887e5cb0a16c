from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from allin.app import create_app
from allin.auth.models import Plan
from allin.core.config import Settings
from allin.core.domain import app_state
from allin.simulator.ai import SimState, create_anthropic_simulator, create_openai_simulator
from tests.auth.conftest import auth_test_settings
from tests.auth.helpers import SignedIn, signed_in
from tests.auth.mail import Mailbox, SmtpServer
from tests.support.server import serve


@dataclass
class Sims:
    openai_url: str
    anthropic_url: str
    openai: SimState
    anthropic: SimState

    def providers(self, *order: str, timeout: float = 2.0) -> list[dict[str, Any]]:
        table = {
            "openai": {
                "kind": "openai",
                "name": "openai",
                "model": "gpt-sim",
                "base_url": f"{self.openai_url}/v1",
                "api_key": "sk-sim",
                "timeout": timeout,
            },
            "anthropic": {
                "kind": "anthropic",
                "name": "anthropic",
                "model": "claude-sim",
                "base_url": self.anthropic_url,
                "api_key": "sk-ant-sim",
                "timeout": timeout,
            },
        }
        return [table[name] for name in order or ("openai", "anthropic")]


@pytest.fixture
async def sims() -> AsyncIterator[Sims]:
    openai_state = SimState(slow_seconds=4.0)
    anthropic_state = SimState(api_key="sk-ant-sim", slow_seconds=4.0)
    async with (
        serve(create_openai_simulator(openai_state)) as openai_url,
        serve(create_anthropic_simulator(anthropic_state)) as anthropic_url,
    ):
        yield Sims(openai_url, anthropic_url, openai_state, anthropic_state)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def mailbox(smtp: SmtpServer) -> Mailbox:
    return smtp.mailbox


@pytest.fixture
def ai_settings(
    make_settings: Callable[..., Settings], database_url: str, smtp: SmtpServer, sims: Sims
) -> Callable[..., Settings]:
    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "ai_providers": sims.providers(timeout=2.0),  # roomy: a loaded CI machine
            "ai_breaker_failure_threshold": 3,
            "ai_retry_after_max": 30.0,
            **overrides,
        }
        return make_settings(database_url=database_url, **auth_test_settings(smtp.port, **values))

    return factory


@pytest.fixture
def settings(ai_settings: Callable[..., Settings]) -> Settings:
    return ai_settings()


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        yield http


@pytest.fixture
async def alice(client: httpx.AsyncClient, app: FastAPI) -> SignedIn:
    return await signed_in(client, app)


async def set_plan(app: FastAPI, user: SignedIn, plan: Plan) -> None:
    from allin.auth.models import User

    async with app_state(app).session_factory() as db:
        row = await db.get(User, user.user_id)
        assert row is not None
        row.plan = plan.value
        await db.commit()


def sse_events(text: str) -> list[tuple[str, Any]]:
    """(event, data) pairs of an SSE body, comments and pings skipped."""
    import json

    events = []
    for frame in text.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in frame.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events
