"""Start-up refusals, response headers and file modes that keep tokens and data private."""

from __future__ import annotations

import base64
import hashlib
import re
import stat
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from allin.app import create_app
from allin.core.config import Settings
from tests.auth.helpers import create_user, login
from tests.support.server import serve


def test_wildcard_cors_with_credentials_is_refused(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValidationError, match="ALLIN_CORS_ORIGINS='\\*' is refused"):
        make_settings(cors_origins="https://a.example,*")
    with pytest.raises(ValidationError, match="not an origin"):
        make_settings(cors_origins="https://a.example/path")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_data_dir_and_database_are_private(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    data = tmp_path / "fresh"
    settings = make_settings(data_dir=data, database_url=f"sqlite+aiosqlite:///{data / 'allin.db'}")
    app = create_app(settings)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:
        await create_user(app, "files@example.com")
        assert (await login(http, "files@example.com"))["access_token"]
        files = sorted(p.name for p in data.iterdir())
        assert {"allin.db", "allin.db-wal", "allin.db-shm"} <= set(files), files
        assert _mode(data) == 0o700
        for name in files:
            assert _mode(data / name) == 0o600, name


async def test_token_answers_are_not_stored_and_api_is_nosniff(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await create_user(app, "headers@example.com")
    response = await client.post(
        "/api/auth/login", json={"email": "headers@example.com", "password": "tangerine-orbit-42"}
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    health = await client.get("/api/health")
    assert health.headers["x-content-type-options"] == "nosniff"
    static = await client.get("/api/docs/static/swagger-ui.css")
    assert static.headers.get("cache-control") != "no-store"  # files may be cached


async def test_docs_and_guide_have_a_policy(client: httpx.AsyncClient) -> None:
    docs = await client.get("/api/docs")
    policy = docs.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self' 'sha256-" in policy
    inline = re.search(r"<script>(.*?)</script>", docs.text, re.S)
    assert inline is not None
    digest = base64.b64encode(hashlib.sha256(inline.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy  # the one inline script is allowed, nothing else
    guide = await client.get("/api/integration-guide?format=html")
    assert guide.status_code == 200
    assert "frame-ancestors 'none'" in guide.headers["content-security-policy"]
    assert "/app/keys" in guide.text and "/dashboard" not in guide.text
    assert (await client.get("/app/keys")).status_code == 200


async def test_refresh_and_logout_check_the_origin(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings(cors_origins="https://app.example"))
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:
        await create_user(app, "origin@example.com")
        tokens = await login(http, "origin@example.com")
        body = {"refresh_token": tokens["refresh_token"]}
        evil = await http.post(
            "/api/auth/refresh", json=body, headers={"origin": "https://evil.example"}
        )
        assert evil.status_code == 403 and evil.json()["error"]["code"] == "AUTH_016"
        assert "access_token" not in evil.text
        bearer = {"authorization": f"Bearer {tokens['access_token']}"}
        logout = await http.post(
            "/api/auth/logout", headers={**bearer, "origin": "https://evil.example"}
        )
        assert logout.status_code == 403
        allowed = await http.post(
            "/api/auth/refresh", json=body, headers={"origin": "https://app.example"}
        )
        assert allowed.status_code == 200
        assert allowed.headers["cache-control"] == "no-store"
        same_site = await http.post(
            "/api/auth/logout",
            headers={
                "authorization": f"Bearer {allowed.json()['data']['access_token']}",
                "origin": url,
            },
        )
        assert same_site.status_code == 200
