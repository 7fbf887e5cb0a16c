"""All social simulators served together on loopback sockets."""

from __future__ import annotations

import httpx

from allin.simulator.social.serve import run_social_simulators


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
