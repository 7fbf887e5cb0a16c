"""All social simulators served together on loopback sockets."""

from __future__ import annotations

import httpx
from fastapi.routing import iter_route_contexts

from allin.app import create_app
from allin.core.config import Settings
from allin.simulator.social.common import redirect_uri_allowed
from allin.simulator.social.serve import SocialConfigs, run_social_simulators


async def test_serves_x_linkedin_and_meta_on_their_own_ports() -> None:
    ports = {"x": 0, "linkedin": 0, "meta": 0}
    async with run_social_simulators(ports=ports, handle_signals=False) as running:
        assert running.urls["facebook"] == running.urls["instagram"] == running.urls["meta"]
        assert len({running.urls["x"], running.urls["linkedin"], running.urls["meta"]}) == 3
        async with httpx.AsyncClient() as http:
            x = await http.get(running.urls["x"] + "/2/users/me")
            assert x.status_code == 401 and x.json()["title"] == "Unauthorized"
            li = await http.get(running.urls["linkedin"] + "/v2/userinfo")
            assert li.json()["serviceErrorCode"] == 65600
            meta = await http.get(running.urls["meta"] + "/v25.0/me")
            assert meta.json()["error"]["code"] == 104


async def test_control_api_injects_faults_moves_the_clock_and_denies_consent() -> None:
    ports = {"x": 0, "linkedin": 0, "meta": 0}
    async with (
        run_social_simulators(ports=ports, handle_signals=False) as running,
        httpx.AsyncClient(base_url=running.urls["meta"]) as http,
    ):
        injected = await http.post(
            "/_simulator/faults",
            json={"endpoint": "oauth.access_token", "kind": "error", "status": 502},
        )
        assert injected.status_code == 201
        failed = await http.get("/v25.0/oauth/access_token")
        assert failed.status_code == 502
        state = running.apps["meta"].state.sim
        before = state.now()
        moved = await http.post("/_simulator/clock", json={"advance": 3600})
        assert moved.json()["now"] >= before + 3600
        await http.post("/_simulator/consent", json={"deny": True})
        dialog = await http.get(
            "/v25.0/dialog/oauth",
            params={
                "client_id": "1234567890123456",
                "state": "s",
                "redirect_uri": "http://127.0.0.1:9/api/social/accounts/facebook/callback",
            },
        )
        assert "error=access_denied" in dialog.headers["location"]
        assert (await http.get("/_simulator/calls")).json()["oauth.access_token"] == 1


def test_by_default_each_simulator_accepts_the_callback_the_app_serves() -> None:
    settings = Settings(_env_file=None, port=8765)  # type: ignore[call-arg]
    served = {route.path for route in iter_route_contexts(create_app(settings).routes)}
    configs = SocialConfigs()
    registered = {
        "x": configs.x.redirect_uris,
        "linkedin": configs.linkedin.redirect_uris,
        "facebook": configs.meta.redirect_uris,
        "instagram": configs.meta.redirect_uris,
    }
    for platform, uris in registered.items():
        callback = settings.social_redirect_uri(platform)
        assert redirect_uri_allowed(uris, callback), platform
        assert (
            callback.removeprefix("http://127.0.0.1:8765").replace(f"/{platform}/", "/{platform}/")
            in served
        )
        assert not redirect_uri_allowed(uris, callback.replace("/social/accounts/", "/x/"))
