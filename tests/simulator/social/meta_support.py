"""Shared steps of the Meta simulator tests: log in, get a long-lived token and Page tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx

from allin.simulator.social.common import ManualClock
from allin.simulator.social.meta import MetaConfig, MetaState, create_meta_simulator
from tests.support.server import serve

APP_ID, APP_SECRET = "1234567890123456", "sim-meta-app-secret"
REDIRECT = "http://127.0.0.1:5000/api/social/accounts/facebook/callback"
USER, PAGE, IG = "10158000000000001", "104000000000001", "17841400000000001"
V = "/v25.0"
ALL_SCOPES = (
    "pages_show_list,pages_read_engagement,pages_manage_posts,publish_video,"
    "instagram_basic,instagram_content_publish"
)


@dataclass
class Sim:
    http: httpx.AsyncClient
    state: MetaState
    clock: ManualClock


async def running(**overrides: object) -> AsyncIterator[Sim]:
    clock = ManualClock()
    app = create_meta_simulator(MetaConfig(clock=clock, **overrides))  # type: ignore[arg-type]
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:
        yield Sim(http, app.state.sim, clock)


async def login(http: httpx.AsyncClient, scope: str = ALL_SCOPES, **extra: str) -> dict[str, str]:
    params = {
        "client_id": APP_ID,
        "redirect_uri": REDIRECT,
        "state": "st",
        "response_type": "code",
        "scope": scope,
        **extra,
    }
    response = await http.get(f"{V}/dialog/oauth", params=params)
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


async def short_token(http: httpx.AsyncClient, scope: str = ALL_SCOPES) -> dict[str, object]:
    code = (await login(http, scope))["code"]
    response = await http.get(
        f"{V}/oauth/access_token",
        params={
            "client_id": APP_ID,
            "client_secret": APP_SECRET,
            "redirect_uri": REDIRECT,
            "code": code,
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def long_token(http: httpx.AsyncClient, scope: str = ALL_SCOPES) -> str:
    short = (await short_token(http, scope))["access_token"]
    response = await http.get(
        f"{V}/oauth/access_token",
        params={
            "grant_type": "fb_exchange_token",
            "client_id": APP_ID,
            "client_secret": APP_SECRET,
            "fb_exchange_token": short,
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def page_token(http: httpx.AsyncClient, user_token: str) -> str:
    response = await http.get(
        f"{V}/me/accounts",
        params={
            "fields": "id,name,access_token,tasks,instagram_business_account",
            "access_token": user_token,
        },
    )
    return str(response.json()["data"][0]["access_token"])


def error_of(response: httpx.Response) -> tuple[int, int | None]:
    error = response.json()["error"]
    return error["code"], error.get("error_subcode")
