"""Seed 000's sign routes: fields, errors, URL validation, the signature cache."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from allin.core.clock import clock
from allin.sign.algorithm import decode_x_bogus, decode_x_tt_params
from tests.sign.service.conftest import SAMPLE_URL

EULER_SIGN_PATHS = ["/api/eulerstream", "/api/signature", "/api/sign"]


@pytest.mark.parametrize("path", EULER_SIGN_PATHS)
async def test_seed_route_signs(served: Callable[..., Any], path: str) -> None:
    async with served() as (_, client):
        response = await client.post(path, json={"url": SAMPLE_URL})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    for field in ("signature", "signed_url", "X-Bogus", "x-tt-params"):
        assert data[field], field
    query = dict(parse_qsl(urlsplit(data["signed_url"]).query))
    assert query["X-Bogus"] == data["X-Bogus"] == data["signature"]
    assert query["msToken"] == data["msToken"]
    assert data["signed_url"].startswith(SAMPLE_URL + "?msToken=")
    # X-Bogus carries the User-Agent it was made for; x-tt-params the URL's own parameters.
    assert decode_x_bogus(data["X-Bogus"]).timestamp > 0
    assert data["user_agent"].startswith("Mozilla/5.0")
    assert decode_x_tt_params(data["x-tt-params"]) == {"is_encryption": "1"}
    assert data["signer"] == "algorithm"


async def test_form_body_and_user_agent(served: Callable[..., Any]) -> None:
    agent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"
    url = "https://www.tiktok.com/api/post/item_list/?aid=1988&count=30"
    async with served() as (_, client):
        response = await client.post("/api/eulerstream", data={"url": url, "userAgent": agent})
    data = response.json()["data"]
    assert data["user_agent"] == agent
    assert decode_x_tt_params(data["x-tt-params"]) == {
        "aid": "1988",
        "count": "30",
        "is_encryption": "1",
    }


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/@x/live",
        "https://tiktok.com.evil.org/",
        "https://user@www.tiktok.com/",
        "ftp://www.tiktok.com/",
        "https://www.tiktok.com:8443/",
        "javascript:alert(1)",
        "https://www.tiktok.com/\\@evil.org",
        "https://WWW.TIKTOK.COM/",  # valid for a browser, outside the documented pattern
        "https://www.tiktok.com:443/",
    ],
)
async def test_non_tiktok_urls_are_refused(served: Callable[..., Any], url: str) -> None:
    async with served() as (_, client):
        response = await client.post("/api/eulerstream", json={"url": url})
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False
    assert body["error"] == "Invalid TikTok URL"
    assert body["message"].startswith("Invalid TikTok URL: ")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "`url` is required"),
        ({"url": ""}, "Invalid TikTok URL: empty URL"),
        ({"url": 42}, "`url`: Input should be a valid string"),
        ("[1, 2]", "Request body must be a JSON object"),
        ("{not json", "Request body is not valid JSON"),
    ],
)
async def test_malformed_bodies(served: Callable[..., Any], payload: Any, message: str) -> None:
    async with served() as (_, client):
        if isinstance(payload, str):
            response = await client.post(
                "/api/sign", content=payload, headers={"content-type": "application/json"}
            )
        else:
            response = await client.post("/api/sign", json=payload)
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "error": "Invalid TikTok URL",
        "code": 400,
        "message": message,
    }


async def test_cache_serves_the_same_signature_for_five_minutes(
    served: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [clock.monotonic()]
    monkeypatch.setattr(clock, "monotonic", lambda: now[0])
    async with served() as (_, client):

        async def sign(agent: str | None = None) -> dict[str, Any]:
            body: dict[str, Any] = {"url": SAMPLE_URL}
            if agent:
                body["userAgent"] = agent
            data: dict[str, Any] = (await client.post("/api/eulerstream", json=body)).json()["data"]
            return data

        first = await sign()
        second = await sign()
        other_agent = await sign("Mozilla/5.0 Other/1.0")
        now[0] += 299
        still = await sign()
        now[0] += 2
        expired = await sign()
    assert first["cached"] is False and second["cached"] is True
    assert second["signed_url"] == first["signed_url"]
    assert other_agent["cached"] is False  # keyed by URL + User-Agent
    assert still["cached"] is True and still["signed_url"] == first["signed_url"]
    assert expired["cached"] is False and expired["msToken"] != first["msToken"]


async def test_cache_can_be_disabled(served: Callable[..., Any]) -> None:
    async with served(sign_cache_ttl=0) as (_, client):
        a = (await client.post("/api/sign", json={"url": SAMPLE_URL})).json()["data"]
        b = (await client.post("/api/sign", json={"url": SAMPLE_URL})).json()["data"]
    assert not a["cached"] and not b["cached"] and a["msToken"] != b["msToken"]
