"""What goes wrong while connecting: each answer is an envelope error with a stable code, no
account is half written, and neither tokens nor codes reach the log or the database in clear."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, inspect, select, text

from allin.app import create_app
from allin.core.config import Settings
from allin.core.domain import app_state
from allin.social.models import SocialAccount
from tests.auth.helpers import SignedIn, signed_in
from tests.social.flows import API, code_of, consent
from tests.support.server import serve
from tests.tiktok.conftest import MovableClock, Sim

CALLBACK = f"{API}/accounts/tiktok/callback"


async def _count(app: FastAPI) -> int:
    async with app_state(app).session_factory() as db:
        return int(await db.scalar(select(func.count()).select_from(SocialAccount)) or 0)


async def test_denied_consent(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn, sim: Sim
) -> None:
    sim.world.deny_consent = True
    query = await consent(client, alice)
    assert "error=" in query
    response = await client.get(f"{CALLBACK}?{query}")
    assert response.status_code == 400 and code_of(response) == "SOCIAL_007"
    assert await _count(app) == 0


async def test_a_state_works_once(client: httpx.AsyncClient, alice: SignedIn) -> None:
    query = await consent(client, alice)
    assert (await client.get(f"{CALLBACK}?{query}")).status_code == 200
    replay = await client.get(f"{CALLBACK}?{query}")
    assert replay.status_code == 400 and code_of(replay) == "SOCIAL_006"


async def test_an_expired_state_is_refused(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn, moved: MovableClock
) -> None:
    query = await consent(client, alice)
    moved.advance(11 * 60)
    response = await client.get(f"{CALLBACK}?{query}")
    assert response.status_code == 400 and code_of(response) == "SOCIAL_006"
    assert await _count(app) == 0


async def test_unknown_or_missing_state(client: httpx.AsyncClient) -> None:
    for query in ("code=abc&state=made-up", "code=abc", ""):
        response = await client.get(f"{CALLBACK}?{query}")
        assert response.status_code == 400 and code_of(response) == "SOCIAL_006"


async def test_a_state_for_another_platform_is_refused(
    client: httpx.AsyncClient, alice: SignedIn
) -> None:
    query = await consent(client, alice)
    response = await client.get(f"{API}/accounts/x/callback?{query}")
    assert response.status_code == 400 and code_of(response) == "SOCIAL_006"


async def test_another_users_state_is_refused(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn, bob: SignedIn
) -> None:
    query = await consent(client, alice)
    response = await client.get(f"{CALLBACK}?{query}", headers=bob.headers)
    assert response.status_code == 400 and code_of(response) == "SOCIAL_006"
    assert await _count(app) == 0


async def test_another_browser_must_confirm_before_linking(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn
) -> None:
    query = await consent(client, alice)
    async with httpx.AsyncClient(base_url=str(client.base_url)) as victim:  # no binding cookie
        page = await victim.get(f"{CALLBACK}?{query}")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert alice.email in page.text and 'id="confirm"' in page.text
        assert page.headers["cache-control"] == "no-store"
        assert await _count(app) == 0  # nothing linked silently

        fields = dict(parse_qs(query))
        form = {"state": fields["state"][0], "code": fields["code"][0], "confirm_token": "0" * 64}
        forged = await victim.post(f"{CALLBACK}/confirm", data=form)
        assert forged.status_code == 403 and code_of(forged) == "SOCIAL_008"

        token = page.text.split('name="confirm_token" value="')[1].split('"')[0]
        confirmed = await victim.post(f"{CALLBACK}/confirm", data={**form, "confirm_token": token})
        assert confirmed.status_code == 200, confirmed.text
        again = await victim.post(f"{CALLBACK}/confirm", data={**form, "confirm_token": token})
        assert again.status_code == 400 and code_of(again) == "SOCIAL_006"
    assert await _count(app) == 1


async def test_cancel_drops_the_attempt(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn
) -> None:
    query = await consent(client, alice)
    state = parse_qs(query)["state"][0]
    cancelled = await client.post(f"{CALLBACK}/cancel", data={"state": state})
    assert cancelled.status_code == 200
    after = await client.get(f"{CALLBACK}?{query}")
    assert after.status_code == 400 and code_of(after) == "SOCIAL_006"
    assert await _count(app) == 0


async def test_a_code_exchanged_twice_is_refused_by_the_platform(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn, sim: Sim, settings: Settings
) -> None:
    query = await consent(client, alice)
    code = parse_qs(query)["code"][0]
    async with httpx.AsyncClient() as thief:  # someone else redeems the code first
        stolen = await thief.post(
            f"{sim.url}/v2/oauth/token/",
            data={
                "client_key": sim.config.client_key,
                "client_secret": sim.config.client_secret,
                "code": code,
                "grant_type": "authorization_code",
                "redirect_uri": settings.social_redirect_uri("tiktok"),
            },
        )
    assert stolen.status_code == 400  # PKCE: without the verifier the code is useless to them
    response = await client.get(f"{CALLBACK}?{query}")
    assert response.status_code in (200, 401)
    replay = await client.get(f"{CALLBACK}?{query}")
    assert replay.status_code == 400 and code_of(replay) == "SOCIAL_006"


async def test_a_platform_answering_html_leaves_no_account(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn, sim: Sim
) -> None:
    query = await consent(client, alice)
    sim.world.inject("token", 200, None)  # a 200 whose body is not JSON
    response = await client.get(f"{CALLBACK}?{query}")
    assert response.status_code == 502 and code_of(response) == "SOCIAL_002"
    assert response.json()["error"]["details"]["kind"] == "transient"
    assert await _count(app) == 0


async def test_a_garbage_profile_leaves_no_account(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn, sim: Sim
) -> None:
    query = await consent(client, alice)
    sim.world.inject("user_info", 500, None)  # tokens issued, then the profile call fails
    response = await client.get(f"{CALLBACK}?{query}")
    assert response.status_code == 502 and code_of(response) == "SOCIAL_002"
    assert await _count(app) == 0


async def test_a_token_endpoint_that_hangs_times_out(
    social_settings: Callable[..., Settings], port: int
) -> None:
    hung = FastAPI()

    @hung.post("/v2/oauth/token/")
    async def token(request: Request) -> HTMLResponse:
        import asyncio

        await asyncio.sleep(2)  # longer than the client waits (0.5 s)
        return HTMLResponse("<html>too late</html>")

    async with serve(hung) as hung_url:
        app = create_app(social_settings(tiktok_api_url=hung_url, tiktok_timeout=0.5))
        async with serve(app, port) as base, httpx.AsyncClient(base_url=base) as client:
            user = await signed_in(client, app)
            query = await consent(client, user)
            response = await client.get(f"{CALLBACK}?{query}")
            assert response.status_code == 502 and code_of(response) == "SOCIAL_002"
            assert await _count(app) == 0


async def test_no_token_or_code_in_the_log_or_the_database(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: SignedIn,
    sim: Sim,
    caplog: pytest.LogCaptureFixture,
    db_file: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    query = await consent(client, alice)
    code = parse_qs(query)["code"][0]
    account = await client.get(f"{CALLBACK}?{query}")
    assert account.status_code == 200
    account_id = account.json()["data"][0]["id"]
    await client.put(f"{API}/accounts/{account_id}/refresh", headers=alice.headers)
    sim.world.inject("token", 503, None)
    await client.put(f"{API}/accounts/{account_id}/refresh", headers=alice.headers)
    secrets = {code, *sim.world.access, *sim.world.refresh}
    assert len(secrets) >= 4  # the code, two access tokens, the refresh token(s)

    ours = str(client.base_url)
    lines = [
        r.getMessage()
        for r in caplog.records
        # the test's own clients play the browser: their lines about our callback are not ours
        if not (r.name.startswith(("httpx", "httpcore")) and ours in r.getMessage())
    ]
    assert lines and not [s for s in secrets if any(s in line for line in lines)]

    async with app_state(app).engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        dump = []
        for table in tables:
            rows = await conn.execute(text(f'SELECT * FROM "{table}"'))
            dump.extend(str(tuple(row)) for row in rows)
    everything = "\n".join(dump)
    assert "tiktok" in everything
    assert not [s for s in secrets if s in everything]
    if app_state(app).engine.dialect.name == "sqlite":  # the file itself, WAL included
        raw = b"".join(p.read_bytes() for p in db_file.parent.glob("test.db*"))
        assert raw and not [s for s in secrets if s.encode() in raw]
