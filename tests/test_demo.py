"""Demo mode (`make run`): the product against the built-in simulators, over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from allin.app import create_app
from allin.core.config import Settings
from allin.core.domain import app_state
from tests.support.server import free_port, serve
from tests.tiktok.conftest import make_video

PASSWORD = "Violet-harbour-lantern-2026"


async def test_demo_mode_captures_the_demo_stream_and_connects_tiktok(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    port = free_port()  # the OAuth redirect URI names the port we serve on
    settings = make_settings(demo=True, rate_limit_enabled=False, port=port)
    app = create_app(settings)
    # Every TikTok URL now names a loopback simulator; the configured ones are gone.
    effective = app_state(app).settings
    for url in (effective.tiktok_web_url, effective.tiktok_api_url, effective.sign_url):
        assert url.startswith("http://127.0.0.1:"), url
    async with serve(app, port) as base, httpx.AsyncClient(base_url=base, timeout=10) as http:
        health = await http.get("/api/health")
        assert health.status_code == 200 and health.json()["status"] == "healthy"
        admin = {"email": "owner@example.com", "password": PASSWORD, "display_name": "Owner"}
        assert (await http.post("/api/auth/setup", json=admin)).status_code in (200, 201)
        login = await http.post(
            "/api/auth/login", json={"email": admin["email"], "password": PASSWORD}
        )
        auth = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}

        started = await http.post("/api/sessions", json={"username": "demo_streamer"}, headers=auth)
        assert started.status_code == 201, started.text
        session_id = started.json()["data"]["id"]
        session: dict[str, Any] = {}
        for _ in range(100):
            session = (await http.get(f"/api/sessions/{session_id}", headers=auth)).json()["data"]
            if session["total_events"] >= 5:
                break
            await asyncio.sleep(0.1)
        assert session["total_events"] >= 5
        assert session["streamer"]["username"] == "demo_streamer"

        # The Open API simulator consents at once and redirects to our callback.
        connect = await http.get("/api/integrations/tiktok/connect", headers=auth)
        authorize = connect.json()["data"]["authorization_url"]
        async with httpx.AsyncClient(timeout=10) as tiktok_side:
            consent = await tiktok_side.get(authorize)
        back = urlsplit(consent.headers["location"])
        # Back in the browser that started it (it holds the binding cookie): no prompt.
        callback = await http.get(f"{back.path}?{back.query}")
        assert callback.status_code == 200, callback.text
        accounts = (await http.get("/api/integrations/tiktok/accounts", headers=auth)).json()
        assert [a["status"] for a in accounts["data"]] == ["active"]

        # A post goes all the way: the simulator's clock moves it on, and the post id comes
        # only by the webhook it signs and sends to our route.
        base = f"/api/integrations/tiktok/{accounts['data'][0]['id']}"
        video = make_video(tmp_path / "demo.mp4")
        posted = await http.post(
            f"{base}/publish",
            headers=auth,
            files={"file": (video.name, video.read_bytes(), "video/mp4")},
            data={"privacy_level": "PUBLIC_TO_EVERYONE", "title": "demo"},
        )
        assert posted.status_code == 202, posted.text
        publish: dict[str, Any] = {}
        for _ in range(200):
            status = await http.get(f"{base}/publish/{posted.json()['data']['id']}", headers=auth)
            publish = status.json()["data"]["publish"]
            if publish["post_ids"]:
                break
            await asyncio.sleep(0.1)
        assert publish["state"] == "COMPLETE" and publish["post_ids"]
        await http.delete(f"/api/sessions/{session_id}", headers=auth)

        # The AI assistant answers from the simulated OpenAI, streamed, offline.
        names = [p["name"] for p in (await http.get("/api/health/ai")).json()["data"]["providers"]]
        assert names == ["openai (simulated)", "anthropic (simulated)"]
        improved = await http.post(
            "/api/ai/improve-content/stream",
            json={"content": "Live tonight at 8!", "goal": "more engaging", "platform": "x"},
            headers=auth,
        )
        assert improved.status_code == 200
        assert "event: delta" in improved.text and "event: done" in improved.text
        assert "[simulated]" in improved.text
