"""Sessions listed and revoked by their user; password change signs out the others; expiry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from allin.app import create_app
from allin.core.clock import clock
from allin.core.config import Settings
from tests.auth.helpers import PASSWORD, bearer, create_user, login, signed_in, unique_email
from tests.support.server import serve


async def _login_as(client: httpx.AsyncClient, email: str, agent: str) -> dict[str, str]:
    response = await client.post(
        "/api/auth/login",
        json={"email": email, "password": PASSWORD},
        headers={"User-Agent": agent},
    )
    assert response.status_code == 200
    data: dict[str, str] = response.json()["data"]
    return data


async def test_list_and_revoke_sessions(client: httpx.AsyncClient, app: FastAPI) -> None:
    email = unique_email()
    await create_user(app, email)
    laptop = await _login_as(client, email, "Laptop/1.0")
    phone = await _login_as(client, email, "Phone/2.0")
    tablet = await _login_as(client, email, "Tablet/3.0")

    listed = await client.get("/api/auth/sessions", headers=bearer(laptop["access_token"]))
    sessions = listed.json()["data"]
    assert {s["user_agent"] for s in sessions} == {"Laptop/1.0", "Phone/2.0", "Tablet/3.0"}
    assert [s["current"] for s in sessions if s["id"] == laptop["session_id"]] == [True]
    assert all(s["ip"] == "127.0.0.1" for s in sessions)

    one = await client.delete(
        f"/api/auth/sessions/{phone['session_id']}", headers=bearer(laptop["access_token"])
    )
    assert one.json()["data"] == {"revoked": 1}
    gone = await client.get("/api/auth/me", headers=bearer(phone["access_token"]))
    assert gone.status_code == 401

    others = await client.delete("/api/auth/sessions", headers=bearer(laptop["access_token"]))
    assert others.json()["data"] == {"revoked": 1}  # the tablet; the laptop is kept
    assert (await client.get("/api/auth/me", headers=bearer(tablet["access_token"]))).is_error
    assert (await client.get("/api/auth/me", headers=bearer(laptop["access_token"]))).is_success

    everything = await client.delete(
        "/api/auth/sessions",
        params={"include_current": "true"},
        headers=bearer(laptop["access_token"]),
    )
    assert everything.json()["data"] == {"revoked": 1}
    assert (await client.get("/api/auth/me", headers=bearer(laptop["access_token"]))).is_error


async def test_cannot_touch_other_users_sessions(client: httpx.AsyncClient, app: FastAPI) -> None:
    alice, bob = await signed_in(client, app), await signed_in(client, app)
    response = await client.delete(
        f"/api/auth/sessions/{bob.tokens['session_id']}", headers=alice.headers
    )
    assert response.status_code == 404
    assert (await client.get("/api/auth/me", headers=bob.headers)).status_code == 200


async def test_change_password_keeps_only_this_session(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    email = unique_email()
    await create_user(app, email)
    here, elsewhere = await login(client, email), await login(client, email)
    changed = await client.post(
        "/api/auth/change-password",
        headers=bearer(here["access_token"]),
        json={"currentPassword": PASSWORD, "newPassword": "marmalade-comet-77"},
    )
    assert changed.status_code == 200 and changed.json()["data"] == {"revoked": 1}
    assert (await client.get("/api/auth/me", headers=bearer(here["access_token"]))).is_success
    assert (await client.get("/api/auth/me", headers=bearer(elsewhere["access_token"]))).is_error
    await login(client, email, "marmalade-comet-77")
    weak = await client.post(
        "/api/auth/change-password",
        headers=bearer(here["access_token"]),
        json={"current_password": "marmalade-comet-77", "new_password": "1234567890"},
    )
    assert weak.json()["error"]["code"] == "AUTH_006"


async def test_update_me(client: httpx.AsyncClient, app: FastAPI) -> None:
    user = await signed_in(client, app)
    patched = await client.patch(
        "/api/auth/me", headers=user.headers, json={"display_name": "Grace"}
    )
    assert patched.json()["data"]["display_name"] == "Grace"
    again = await client.get("/api/auth/me", headers=user.headers)
    assert again.json()["data"]["display_name"] == "Grace"
    for body in ({"display_name": ""}, {"display_name": "x" * 101}, {"email": "new@example.com"}):
        bad = await client.patch("/api/auth/me", headers=user.headers, json=body)
        assert bad.status_code == 422


async def test_session_max_age_is_absolute(
    auth_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(auth_settings(session_max_age="10d", refresh_token_expires_in="7d"))
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        user = await signed_in(http, app)
        login_time = clock.now()
        real_now = clock.now
        # Refreshing within the 7-day window keeps the session going ...
        monkeypatch.setattr(clock, "now", lambda: real_now() + timedelta(days=6))
        http.cookies.clear()
        rotated = await http.post(
            "/api/auth/refresh", json={"refresh_token": user.tokens["refresh_token"]}
        )
        assert rotated.status_code == 200
        # ... but the new token is capped at SESSION_MAX_AGE after the login,
        capped = datetime.fromisoformat(rotated.json()["data"]["refresh_expires_at"])
        assert abs(capped - (login_time + timedelta(days=10))) < timedelta(seconds=5)
        # and after that the session is over.
        monkeypatch.setattr(clock, "now", lambda: real_now() + timedelta(days=10, seconds=5))
        http.cookies.clear()
        late = await http.post(
            "/api/auth/refresh", json={"refresh_token": rotated.json()["data"]["refresh_token"]}
        )
        assert late.status_code == 401 and late.json()["error"]["code"] == "AUTH_004"


async def test_idle_refresh_token_expires(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await signed_in(client, app)
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + timedelta(days=7, seconds=1))
    client.cookies.clear()
    late = await client.post(
        "/api/auth/refresh", json={"refresh_token": user.tokens["refresh_token"]}
    )
    assert late.status_code == 401 and late.json()["error"]["code"] == "AUTH_004"


async def test_refresh_cookie_flags(client: httpx.AsyncClient, app: FastAPI) -> None:
    email = unique_email()
    await create_user(app, email)
    response = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/api/auth" in cookie
