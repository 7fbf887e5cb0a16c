"""Schemathesis against our own OpenAPI: generated requests to every documented operation,
on a real server. No operation may answer 5xx or break its documented contract."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import positive_data_acceptance

from allin.app import create_app
from allin.core.config import Settings
from allin.simulator.ai import create_openai_simulator
from allin.simulator.live.app import create_simulator_app
from allin.simulator.live.server import SimulatorUrls
from allin.simulator.live.simulator import Simulator, SimulatorConfig
from tests.support.server import free_port, serve_in_thread

# TikTok's side is the LIVE simulator, so the EulerStream-compatible routes do real fetches.
SIMULATOR = SimulatorUrls.for_base(f"http://127.0.0.1:{free_port()}")
# The AI provider is the OpenAI simulator, so the AI routes run their real logic.
AI_PORT = free_port()


def _contract_app() -> FastAPI:
    root = Path(tempfile.mkdtemp(prefix="allin-contract-"))
    config = Settings(  # type: ignore[call-arg]
        _env_file=None,
        env="test",
        data_dir=root / "var",
        database_url=f"sqlite+aiosqlite:///{root / 'allin.db'}",
        secret_key="contract-test-secret",
        password_hash_profile="test",
        rate_limit_enabled=False,
        tiktok_web_url=SIMULATOR.web,
        tiktok_webcast_url=SIMULATOR.webcast,  # the run is thousands of calls from one address
        log_level="WARNING",
        ai_providers=[
            {
                "kind": "openai",
                "model": "gpt-sim",
                "base_url": f"http://127.0.0.1:{AI_PORT}/v1",
                "api_key": "sk-sim",
                "timeout": 5,
            }
        ],
    )
    return create_app(config)


APP = _contract_app()
# The schema is the app's own document, loaded without a server so pytest can collect it.
schema = schemathesis.openapi.from_dict(APP.openapi())


ADMIN = {"email": "owner@example.com", "password": "Violet-harbour-lantern-2026"}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    simulator = create_simulator_app(Simulator(SimulatorConfig()))
    port = int(SIMULATOR.web.rsplit(":", 1)[1])
    with (
        serve_in_thread(simulator, port=port),
        serve_in_thread(create_openai_simulator(), port=AI_PORT),
        serve_in_thread(APP) as url,
    ):
        created = httpx.post(f"{url}/api/auth/setup", json=ADMIN, timeout=10)
        assert created.status_code in (200, 201), created.text
        yield url


_cached: dict[str, str] = {}


def _token(base_url: str) -> str:
    """The admin's access token, renewed only after a generated logout/revoke killed it."""
    if "value" not in _cached:
        response = httpx.post(f"{base_url}/api/auth/login", json=ADMIN, timeout=10)
        assert response.status_code == 200, response.text
        _cached["value"] = response.json()["data"]["access_token"]
    return _cached["value"]


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_contract(case: Case, base_url: str) -> None:
    """Authenticated as an admin, so the operations' real logic runs. Schema-valid bodies may
    still break business rules (a weak password, a taken email), so that one check is off."""
    response = case.call(base_url=base_url, headers={"Authorization": f"Bearer {_token(base_url)}"})
    if response.status_code == 401:
        _cached.clear()
    case.validate_response(response, excluded_checks=[positive_data_acceptance])


@schema.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_contract_anonymous(case: Case, base_url: str) -> None:
    """Without credentials: every answer is still documented and never a 5xx."""
    case.call_and_validate(base_url=base_url, excluded_checks=[positive_data_acceptance])


def test_contract_covers_every_route() -> None:
    documented = set(schema.raw_schema["paths"])
    routed = {r.path for r in APP.routes if getattr(r, "include_in_schema", False)}
    assert routed <= documented
    assert "/api/health" in documented
