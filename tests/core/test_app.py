"""App shell: OpenAPI, offline docs, CORS."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from allin.app import create_app
from allin.core.config import Settings
from tests.support.server import serve


async def test_openapi_is_served(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/openapi.json")).json()
    assert spec["info"]["title"] == "AllIN"
    assert "/api/health" in spec["paths"]


async def test_docs_load_only_local_assets(client: httpx.AsyncClient) -> None:
    html = (await client.get("/api/docs")).text
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    assert all(a.startswith("/api/docs/static/") for a in assets), assets
    assert "cdn" not in html.lower()
    for asset in assets:
        response = await client.get(asset)
        assert response.status_code == 200 and len(response.content) > 100


async def test_cors_from_config(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(cors_origins="https://a.example, https://b.example"))
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        allowed = await http.get("/api/health", headers={"Origin": "https://b.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://b.example"
        denied = await http.get("/api/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in denied.headers
        preflight = await http.options(
            "/api/health",
            headers={"Origin": "https://a.example", "Access-Control-Request-Method": "GET"},
        )
        assert preflight.status_code == 200
