"""Schemathesis against our own OpenAPI: generated requests to every documented operation,
on a real server. No operation may answer 5xx or break its documented contract."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import Case

from allin.app import create_app
from allin.core.config import Settings
from tests.support.server import serve_in_thread


def _contract_app() -> FastAPI:
    root = Path(tempfile.mkdtemp(prefix="allin-contract-"))
    config = Settings(  # type: ignore[call-arg]
        _env_file=None,
        env="test",
        data_dir=root / "var",
        database_url=f"sqlite+aiosqlite:///{root / 'allin.db'}",
        secret_key="contract-test-secret",
        log_level="WARNING",
    )
    return create_app(config)


APP = _contract_app()
# The schema is the app's own document, loaded without a server so pytest can collect it.
schema = schemathesis.openapi.from_dict(APP.openapi())


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_in_thread(APP) as url:
        yield url


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_contract(case: Case, base_url: str) -> None:
    case.call_and_validate(base_url=base_url)


def test_contract_covers_every_route() -> None:
    documented = set(schema.raw_schema["paths"])
    routed = {r.path for r in APP.routes if getattr(r, "include_in_schema", False)}
    assert routed <= documented
    assert "/api/health" in documented
