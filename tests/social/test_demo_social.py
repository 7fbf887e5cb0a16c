"""Demo mode: all five platforms' simulators come up with the app, and each connects offline
with a consent that approves at once."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

from allin.app import create_app
from allin.core.config import Settings
from tests.support.server import free_port, serve

PASSWORD = "Violet-harbour-lantern-2026"


async def test_every_platform_connects_in_demo_mode(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    port = free_port()
    settings = make_settings(
        demo=True, rate_limit_enabled=False, port=port, database_url=database_url
    )
    app = create_app(settings)
    async with serve(app, port) as base, httpx.AsyncClient(base_url=base, timeout=10) as http:
        owner = {"email": "owner@example.com", "password": PASSWORD, "display_name": "Owner"}
        assert (await http.post("/api/auth/setup", json=owner)).status_code in (200, 201)
        login = await http.post(
            "/api/auth/login", json={"email": owner["email"], "password": PASSWORD}
        )
        auth = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
        providers = (await http.get("/api/social/providers", headers=auth)).json()["data"]
        assert all(p["status"] == "configured" for p in providers), providers

        for platform in ("tiktok", "x", "linkedin", "facebook", "instagram"):
            started = await http.get(f"/api/social/accounts/{platform}/connect", headers=auth)
            assert started.status_code == 200, started.text
            async with httpx.AsyncClient(timeout=10) as platform_side:
                consent = await platform_side.get(started.json()["data"]["authorization_url"])
            assert consent.status_code in (302, 303), (platform, consent.text)
            back = urlsplit(consent.headers["location"])
            done = await http.get(f"{back.path}?{back.query}")  # the same browser: no prompt
            assert done.status_code == 200, (platform, done.text)

        accounts = (await http.get("/api/social/accounts", headers=auth)).json()["data"]
        assert {a["platform"] for a in accounts} == {
            "tiktok",
            "x",
            "linkedin",
            "facebook",
            "instagram",
        }
        assert all(a["status"] == "ACTIVE" for a in accounts)
