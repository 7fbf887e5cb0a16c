"""The OAuth callback is bound to the browser that started the flow (RFC 9700 §4.7): a victim
finishing an attacker's authorization link is asked, never linked silently."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from allin.core.config import Settings
from allin.core.domain import app_state
from allin.core.oauth_binding import BINDING_COOKIE
from allin.social.models import SocialAccount
from tests.auth.helpers import signed_in
from tests.tiktok.conftest import Sim
from tests.tiktok.routes import PREFIX, authorize, error_code, sim_settings


@pytest.fixture
def settings(make_settings: Callable[..., Settings], sim: Sim) -> Settings:
    return make_settings(**sim_settings(sim))


async def _accounts(app: FastAPI) -> int:
    async with app_state(app).session_factory() as db:
        return int(await db.scalar(select(func.count()).select_from(SocialAccount)) or 0)


def _fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))


async def test_connect_sets_an_httponly_lax_cookie(client: httpx.AsyncClient, app: FastAPI) -> None:
    attacker = await signed_in(client, app)
    started = await client.get(f"{PREFIX}/connect", headers=attacker.headers)
    cookie = started.headers["set-cookie"]
    assert cookie.startswith(f"{BINDING_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert f"Path={PREFIX}/callback" in cookie
    assert "Secure" not in cookie  # plain http on loopback; https sets it
    assert started.headers["cache-control"] == "no-store"


async def test_another_browser_is_asked_and_not_linked(
    client: httpx.AsyncClient, app: FastAPI, sim: Sim
) -> None:
    attacker = await signed_in(client, app, email="attacker@example.com")
    query = await authorize(client, attacker)  # the attacker's browser holds the cookie
    async with httpx.AsyncClient(base_url=client.base_url) as victim:
        page = await victim.get(f"{PREFIX}/callback?{query}")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "attacker@example.com" in page.text
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"
        assert await _accounts(app) == 0
        fields = _fields(page.text)
        assert fields["state"] == parse_qs(query)["state"][0]

        forged = await victim.post(
            f"{PREFIX}/callback/confirm", data={**fields, "confirm_token": "0" * 64}
        )
        assert forged.status_code == 422 and error_code(forged) == "OAUTH_CONFIRMATION_INVALID"
        cancelled = await victim.post(f"{PREFIX}/callback/cancel", data=fields)
        assert cancelled.status_code == 200 and "cancelled" in cancelled.text
        late = await victim.post(f"{PREFIX}/callback/confirm", data=fields)
        assert late.status_code == 409  # the state was discarded
    assert await _accounts(app) == 0


async def test_confirming_links_once(client: httpx.AsyncClient, app: FastAPI, sim: Sim) -> None:
    owner = await signed_in(client, app)
    query = await authorize(client, owner)
    async with httpx.AsyncClient(base_url=client.base_url) as phone:
        fields = _fields((await phone.get(f"{PREFIX}/callback?{query}")).text)
        linked = await phone.post(f"{PREFIX}/callback/confirm", data=fields)
        assert linked.status_code == 200, linked.text
        assert linked.json()["data"]["open_id"] == sim.world.current_user
        again = await phone.post(f"{PREFIX}/callback/confirm", data=fields)
        assert again.status_code == 409  # single use
    assert await _accounts(app) == 1


async def test_same_browser_links_silently_and_the_cookie_is_cleared(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner = await signed_in(client, app)
    query = await authorize(client, owner)
    done = await client.get(f"{PREFIX}/callback?{query}")
    assert done.status_code == 200 and done.json()["data"]["id"]
    assert f'{BINDING_COOKIE}=""' in done.headers["set-cookie"]
    assert await _accounts(app) == 1


async def test_non_ascii_tokens_are_refused_cleanly(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{PREFIX}/callback/confirm", data={"state": "é", "code": "c", "confirm_token": "ü"}
    )
    assert response.status_code == 422 and error_code(response) == "OAUTH_CONFIRMATION_INVALID"
    assert BINDING_COOKIE not in client.cookies
