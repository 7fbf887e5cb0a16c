"""Keys, plans and quotas on every sign route, the rate headers, and usage per key per hour."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from allin.core.domain import app_state
from allin.sign.access import SignAccess
from allin.sign.models import SignUsage
from allin.simulator.live.simulator import DEMO_STREAMER, Simulator
from tests.auth.helpers import login
from tests.sign.service.conftest import SAMPLE_URL, make_key

RATE_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit-Remaining",
    "RateLimit-Reset",
)


def sign(client: httpx.AsyncClient, headers: dict[str, str] | None = None, **kw: Any) -> Any:
    return client.post("/api/eulerstream", json={"url": SAMPLE_URL}, headers=headers, **kw)


async def test_anonymous_quota_per_ip(served: Callable[..., Any]) -> None:
    async with served(sign_anonymous_limit="3/hour") as (_, client):
        answers = [await sign(client) for _ in range(4)]
        other_ip = await sign(client, {"X-Forwarded-For": "198.51.100.7"})
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [r.headers["X-RateLimit-Remaining"] for r in answers[:3]] == ["2", "1", "0"]
    assert other_ip.status_code == 200  # each IP has its own hour
    limited = answers[3]
    body = limited.json()
    assert body["success"] is False
    assert body["error"] == "Rate limit exceeded"
    assert body["code"] == 429 and body["limit_label"] == "hour"
    assert body["message"].startswith("Rate limit exceeded")
    retry_after = int(limited.headers["Retry-After"])
    assert 3590 <= retry_after <= 3600
    # TikTokLive reads RateLimit-Remaining as the wait and RateLimit-Reset as a Unix time;
    # TikTok-Live-Connector reads Retry-After and X-RateLimit-Reset (Unix time).
    assert limited.headers["RateLimit-Remaining"] == str(retry_after)
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    reset = int(limited.headers["X-RateLimit-Reset"])
    assert abs(reset - (time.time() + retry_after)) <= 2
    assert limited.headers["RateLimit-Reset"] == str(reset)


@pytest.mark.parametrize(
    "path",
    ["/api/eulerstream", "/webcast/sign_url", "/tiktok/sign_url", "/webcast/rate_limits"],
)
async def test_every_answer_carries_the_rate_headers(served: Callable[..., Any], path: str) -> None:
    async with served() as (_, client):
        if path == "/webcast/rate_limits":
            ok = await client.get(path)
        else:
            ok = await client.post(path, json={"url": SAMPLE_URL})
        error = await client.post("/api/sign", json={"url": "https://example.com"})
    for response in (ok, error):
        for name in RATE_HEADERS:
            assert name in response.headers, (response.request.url, name)
    assert ok.headers["X-RateLimit-Limit"] == "1000"


@pytest.mark.parametrize("how", ["bearer", "x-api-key", "query"])
async def test_a_key_is_unlimited_by_default(served: Callable[..., Any], how: str) -> None:
    async with served(sign_anonymous_limit="1/hour") as (app, client):
        raw, _, _ = await make_key(app)
        headers = {"bearer": {"Authorization": f"Bearer {raw}"}, "x-api-key": {"x-api-key": raw}}
        params = {"apiKey": raw} if how == "query" else None
        assert (await sign(client)).status_code == 200
        assert (await sign(client)).status_code == 429  # anonymous hour used up
        answers = [await sign(client, headers.get(how), params=params) for _ in range(5)]
    assert {r.status_code for r in answers} == {200}
    assert answers[-1].headers["X-RateLimit-Limit"] == "unlimited"
    assert answers[-1].headers["RateLimit-Remaining"] == "unlimited"


async def test_plan_limits_apply_per_key(served: Callable[..., Any]) -> None:
    async with served(sign_plan_limits={"free": "2/minute"}) as (app, client):
        free, _, _ = await make_key(app, plan="free")
        pro, _, _ = await make_key(app, plan="pro")
        free_answers = [await sign(client, {"x-api-key": free}) for _ in range(3)]
        pro_answers = [await sign(client, {"x-api-key": pro}) for _ in range(3)]
    assert [r.status_code for r in free_answers] == [200, 200, 429]
    assert free_answers[2].json()["limit_label"] == "minute"
    assert free_answers[0].headers["X-RateLimit-Limit"] == "2"
    assert {r.status_code for r in pro_answers} == {200}  # no limit configured for pro


@pytest.mark.parametrize(
    "credentials",
    [
        {"Authorization": "Bearer allin_AbCd1234_" + "x" * 43},
        {"x-api-key": "not-a-key"},
        {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"},
    ],
)
async def test_bad_keys_are_refused(
    served: Callable[..., Any], credentials: dict[str, str]
) -> None:
    async with served() as (_, client):
        response = await sign(client, credentials)
    assert response.status_code == 401
    body = response.json()
    assert body["success"] is False and body["error"] == "Invalid or missing authentication"


async def test_revoked_key_and_required_key(served: Callable[..., Any]) -> None:
    async with served(sign_require_api_key=True) as (app, client):
        revoked, _, _ = await make_key(app, revoked=True)
        good, _, _ = await make_key(app)
        missing = await sign(client)
        refused = await sign(client, {"x-api-key": revoked})
        accepted = await sign(client, {"x-api-key": good})
    assert missing.status_code == 401
    assert missing.json()["error"] == "Invalid or missing authentication"
    assert refused.status_code == 401
    assert accepted.status_code == 200


async def test_usage_is_recorded_per_key_per_hour(served: Callable[..., Any]) -> None:
    async with served(sign_plan_limits={"free": "3/hour"}) as (app, client):
        raw, key_id, user_id = await make_key(app)
        for _ in range(5):
            await sign(client, {"x-api-key": raw})
        await client.get("/webcast/rate_limits", headers={"x-api-key": raw})
        await app_state(app).get(SignAccess).usage.flush()
        async with app_state(app).session_factory() as db:
            rows = list(await db.scalars(select(SignUsage)))
        # The dashboard's view of it, as the key's owner.
        from allin.auth.models import User

        async with app_state(app).session_factory() as db:
            user = await db.get(User, user_id)
            assert user is not None
            email = user.email
        tokens = await login(client, email)
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        usage = (await client.get("/api/sign/usage", headers=auth)).json()["data"]
        limits = (await client.get("/api/sign/limits", headers=auth)).json()["data"]
        anonymous = await client.get("/api/sign/usage")
    assert len(rows) == 1
    row = rows[0]
    assert row.api_key_id == key_id
    assert (row.requests, row.rate_limited) == (6, 2)  # 5 signs (2 refused) + 1 rate_limits
    assert row.hour.minute == 0 and row.hour.tzinfo is not None
    assert usage == [
        {
            "api_key_id": str(key_id),
            "key_name": "test key",
            "key_prefix": usage[0]["key_prefix"],
            "hour": usage[0]["hour"],
            "requests": 6,
            "rate_limited": 2,
        }
    ]
    assert limits == {
        "signer": "algorithm",
        "anonymous_limit": "1000/hour",
        "plan": "free",
        "key_limit": "3/hour",
    }
    assert anonymous.status_code == 401


async def test_rate_limits_route_reports_without_spending(served: Callable[..., Any]) -> None:
    async with served(sign_anonymous_limit="5/hour") as (_, client):
        await sign(client)
        first = (await client.get("/webcast/rate_limits")).json()
        second = (await client.get("/accounts/me/rate_limits", params={"type": "WEBCAST"})).json()
    for body in (first, second):
        assert body["code"] == 200
        assert body["hour"]["max"] == 5 and body["hour"]["remaining"] == 4
        assert body["hour"]["reset_at"].endswith("+00:00")
        assert body["day"] is None and body["minute"] is None
        assert body["authenticated"] is False


async def test_fetch_routes_get_the_same_treatment(
    served: Callable[..., Any], sim: Simulator
) -> None:
    room = sim.room(DEMO_STREAMER)
    assert room is not None
    params = {"room_id": str(room.room_id), "client": "ttlive-python"}
    async with served(sign_anonymous_limit="2/hour") as (app, client):
        raw, _, _ = await make_key(app)
        v1 = await client.get("/webcast/fetch", params=params)
        v2 = await client.get(f"/webcast/rooms/{room.room_id}/connect")
        limited = await client.get("/webcast/fetch", params=params)
        keyed = await client.get("/webcast/fetch", params={**params, "apiKey": raw})
        bad_key = await client.get("/webcast/fetch", params=params, headers={"X-Api-Key": "nope"})
    assert v1.status_code == v2.status_code == 200
    assert v1.headers["X-RateLimit-Remaining"] == "1"
    assert v1.headers["content-type"] == "application/protobuf"
    assert limited.status_code == 429
    assert limited.json()["message"].startswith("Rate limit exceeded")
    assert "Retry-After" in limited.headers
    assert keyed.status_code == 200 and keyed.headers["x-set-tt-cookie"].startswith("ttwid=")
    assert bad_key.status_code == 401
