"""Health as seed 000 shows it, the compatibility self-test and the integration guide."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from allin.core.health import ServiceHealth, Status
from allin.sign.domain import euler_health_fields
from allin.simulator.live.server import RunningSimulator

CHECKS = [
    "health",
    "euler_sign_routes",
    "invalid_url",
    "sign_url_fields",
    "rate_limit_headers",
    "fetch_round_trip_v1",
    "fetch_round_trip_v2",
    "websocket",
]


async def test_health_has_the_seed_fields(served: Callable[..., Any]) -> None:
    async with served() as (_, client):
        body = (await client.get("/api/health")).json()
        signer = (await client.get("/api/health/signer")).json()
    assert body["status"] == "healthy"
    assert body["signature_generator_ready"] is True
    assert body["database_connected"] is True
    assert body["services"]["signer"]["signer"] == "algorithm"
    assert signer["data"]["status"] == "healthy"


async def test_flags_follow_the_checks() -> None:
    down = ServiceHealth(Status.UNHEALTHY, detail="x")
    flags = await euler_health_fields({"signer": down, "database": ServiceHealth(Status.HEALTHY)})
    assert flags == {"signature_generator_ready": False, "database_connected": True}
    assert await euler_health_fields({}) == {
        "signature_generator_ready": False,
        "database_connected": False,
    }


async def test_compatibility_suite_passes(served: Callable[..., Any]) -> None:
    async with served(sign_anonymous_limit="3/hour") as (_, client):
        response = await client.post(
            "/api/test/compatibility", json={"testSuite": "eulerstream_compatibility"}
        )
        # The suite's own calls spend a bucket of their own, not the caller's quota.
        after = await client.post("/api/eulerstream", json={"url": "https://www.tiktok.com/"})
    body = response.json()
    assert response.status_code == 200
    assert [r["name"] for r in body["results"]] == CHECKS
    failed = [r for r in body["results"] if r["status"] != "passed"]
    assert not failed, failed
    assert body["passed"] is True and body["summary"] == {
        "total": 8,
        "passed": 8,
        "failed": 0,
        "skipped": 0,
    }
    assert after.headers["X-RateLimit-Remaining"] == "2"


async def test_compatibility_suite_reports_failures(
    served: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server whose sign_url answers lack the tokens must fail that check, and only that one.
    from allin.sign import compat

    original = compat.tokens_of
    monkeypatch.setattr(compat, "tokens_of", lambda signed: {})
    async with served() as (_, client):
        body = (await client.post("/api/test/compatibility", json={})).json()
    monkeypatch.setattr(compat, "tokens_of", original)
    statuses = {r["name"]: r["status"] for r in body["results"]}
    assert statuses.pop("sign_url_fields") == "failed"
    assert set(statuses.values()) == {"passed"}
    assert body["passed"] is False
    failure = next(r for r in body["results"] if r["name"] == "sign_url_fields")
    assert failure["detail"] == "response.tokens is empty"


async def test_compatibility_suite_guards(served: Callable[..., Any]) -> None:
    async with served(sign_selftest_limit="1/hour") as (_, client):
        unknown = await client.post("/api/test/compatibility", json={"testSuite": "other"})
        first = await client.post("/api/test/compatibility", json={})
        second = await client.post("/api/test/compatibility", json={})
    assert unknown.status_code == 400 and unknown.json()["error"] == "Unknown test suite"
    assert first.status_code == 200
    assert second.status_code == 429 and second.json()["error"] == "Rate limit exceeded"
    assert "Retry-After" in second.headers


async def test_compatibility_suite_in_browser_mode(
    served: Callable[..., Any], running_sim: RunningSimulator
) -> None:
    # The browser signer's start page is the simulator's (TikTok is out of reach here).
    async with served(signer="browser", sign_browser_pages=1) as (_, client):
        body = (await client.post("/api/test/compatibility", json={})).json()
        health = (await client.get("/api/health")).json()
    assert body["signer"] == "browser"
    assert [r for r in body["results"] if r["status"] != "passed"] == []
    assert health["services"]["signer"]["browser"]["launches"] == 1


async def test_integration_guide_json(served: Callable[..., Any]) -> None:
    async with served() as (_, client):
        body = (await client.get("/api/integration-guide")).json()
        base = str(client.base_url).rstrip("/")
    data = body["data"]
    assert data["base_url"] == base
    python, node = data["clients"]["python"], data["clients"]["node"]
    assert f'WebDefaults.tiktok_sign_url = "{base}"' in python["snippet"]
    assert 'WebDefaults.tiktok_sign_api_key = "YOUR_API_KEY"' in python["snippet"]
    assert python["env"] == {"SIGN_API_URL": base, "SIGN_API_KEY": "YOUR_API_KEY"}
    assert f"SignConfig.basePath = '{base}';" in node["snippet"]
    assert "signApiKey: 'YOUR_API_KEY'" in node["snippet"]
    compile(python["snippet"], "bot.py", "exec")  # pastes as valid Python


def test_node_snippet_is_valid_javascript(tmp_path: Path) -> None:
    from allin.sign.guide import node_snippet

    node = shutil.which("node")
    assert node, "node is needed (Debian package nodejs)"
    script = tmp_path / "bot.mjs"
    script.write_text(node_snippet("http://127.0.0.1:8000"))
    subprocess.run([node, "--check", str(script)], check=True, capture_output=True)


async def test_integration_guide_page(served: Callable[..., Any]) -> None:
    async with served() as (_, client):
        by_accept = await client.get("/api/integration-guide", headers={"Accept": "text/html"})
        by_query = await client.get("/api/integration-guide", params={"format": "html"})
    for page in (by_accept, by_query):
        assert page.headers["content-type"].startswith("text/html")
        text = page.text
        assert "WebDefaults.tiktok_sign_url" in text and "SignConfig.basePath" in text
        # Self-contained: no scripts, stylesheets or images from anywhere.
        for marker in ("<script", "<link", "<img", "src=", "@import", "url("):
            assert marker not in text, marker
