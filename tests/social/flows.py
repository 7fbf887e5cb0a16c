"""Connecting an account the way a browser does: our connect route, the platform's consent
page, then the platform's redirect to our callback."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.auth.helpers import SignedIn

API = "/api/social"


async def consent(client: httpx.AsyncClient, user: SignedIn, platform: str = "tiktok") -> str:
    """GET /connect (the binding cookie lands in `client`), then the platform's consent
    (approves at once); the query string the platform redirects back with."""
    started = await client.get(f"{API}/accounts/{platform}/connect", headers=user.headers)
    assert started.status_code == 200, started.text
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(started.json()["data"]["authorization_url"])
    assert answer.status_code in (302, 303), answer.text
    return urlsplit(answer.headers["location"]).query


async def connect(
    client: httpx.AsyncClient, user: SignedIn, platform: str = "tiktok"
) -> dict[str, Any]:
    query = await consent(client, user, platform)
    response = await client.get(f"{API}/accounts/{platform}/callback?{query}")
    assert response.status_code == 200, response.text
    accounts: list[dict[str, Any]] = response.json()["data"]
    assert len(accounts) == 1
    return accounts[0]


def code_of(response: httpx.Response) -> str:
    body = response.json()
    assert body["success"] is False, body
    return str(body["error"]["code"])
