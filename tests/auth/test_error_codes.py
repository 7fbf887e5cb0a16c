"""Every auth error code, produced through the API, with its HTTP status and envelope."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI

from allin.auth.errors import AUTH_ERRORS
from allin.auth.models import Role, UserStatus
from tests.auth.helpers import PASSWORD, bearer, create_user, login, signed_in, unique_email
from tests.auth.mail import Mailbox

Scenario = Callable[[httpx.AsyncClient, FastAPI], Awaitable[httpx.Response]]


async def _wrong_password(client: httpx.AsyncClient, app: FastAPI) -> httpx.Response:
    email = unique_email()
    await create_user(app, email)
    return await client.post("/api/auth/login", json={"email": email, "password": "nope-nope-1"})


async def _status_login(
    client: httpx.AsyncClient, app: FastAPI, status: UserStatus
) -> httpx.Response:
    email = unique_email()
    await create_user(app, email, status=status)
    return await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})


async def _not_verified(client: httpx.AsyncClient, app: FastAPI) -> httpx.Response:
    return await _status_login(client, app, UserStatus.PENDING_VERIFICATION)


async def _suspended(client: httpx.AsyncClient, app: FastAPI) -> httpx.Response:
    return await _status_login(client, app, UserStatus.SUSPENDED)


async def _bad_token(client: httpx.AsyncClient, app: FastAPI) -> httpx.Response:
    return await client.get("/api/auth/me", headers=bearer("eyJhbGciOiJub25lIn0.e30."))


async def _email_taken(client: httpx.AsyncClient, app: FastAPI) -> httpx.Response:
    email = unique_email()
    await create_user(app, email)
    return await client.post(
        "/api/auth/register", json={"email": email.upper(), "password": PASSWORD}
    )


async def _weak_password(client: httpx.AsyncClient, app: FastAPI) -> httpx.Response:
    return await client.post(
        "/api/auth/register", json={"email": unique_email(), "password": "password123"}
    )


async def _bad_link(client: httpx.AsyncClient, app: FastAPI) -> httpx.Response:
    return await client.post("/api/auth/verify-email", json={"token": "made-up"})


async def _refresh_reuse(client: httpx.AsyncClient, app: FastAPI) -> httpx.Response:
    user = await signed_in(client, app)
    client.cookies.clear()
    token = {"refresh_token": user.tokens["refresh_token"]}
    assert (await client.post("/api/auth/refresh", json=token)).status_code == 200
    client.cookies.clear()
    return await client.post("/api/auth/refresh", json=token)


async def _wrong_current_password(client: httpx.AsyncClient, app: FastAPI) -> httpx.Response:
    user = await signed_in(client, app)
    return await client.post(
        "/api/auth/change-password",
        headers=user.headers,
        json={"current_password": "not-it-at-all", "new_password": "marmalade-comet-77"},
    )


async def _setup_done(client: httpx.AsyncClient, app: FastAPI) -> httpx.Response:
    await create_user(app)
    return await client.post(
        "/api/auth/setup", json={"email": unique_email("admin"), "password": PASSWORD}
    )


async def _not_admin(client: httpx.AsyncClient, app: FastAPI) -> httpx.Response:
    user = await signed_in(client, app)
    return await client.get("/api/admin/users", headers=user.headers)


async def _self_lockout(client: httpx.AsyncClient, app: FastAPI) -> httpx.Response:
    admin = await signed_in(client, app, role=Role.ADMIN)
    return await client.post(f"/api/admin/users/{admin.user_id}/suspend", headers=admin.headers)


async def _api_key_minting_keys(client: httpx.AsyncClient, app: FastAPI) -> httpx.Response:
    user = await signed_in(client, app)
    created = await client.post("/api/auth/api-keys", headers=user.headers, json={"name": "ci"})
    key = created.json()["data"]["key"]
    return await client.post("/api/auth/api-keys", headers=bearer(key), json={"name": "more"})


async def _api_key_on_sessions(client: httpx.AsyncClient, app: FastAPI) -> httpx.Response:
    user = await signed_in(client, app)
    created = await client.post("/api/auth/api-keys", headers=user.headers, json={"name": "ci"})
    key = created.json()["data"]["key"]
    return await client.delete("/api/auth/sessions?include_current=true", headers=bearer(key))


async def _api_key_without_scope(client: httpx.AsyncClient, app: FastAPI) -> httpx.Response:
    user = await signed_in(client, app)
    created = await client.post("/api/auth/api-keys", headers=user.headers, json={"name": "ci"})
    key = created.json()["data"]["key"]
    return await client.patch("/api/auth/me", headers=bearer(key), json={"display_name": "x"})


async def _foreign_origin(client: httpx.AsyncClient, app: FastAPI) -> httpx.Response:
    user = await signed_in(client, app)
    body = {"refresh_token": user.tokens["refresh_token"]}
    return await client.post(
        "/api/auth/refresh", json=body, headers={"origin": "https://evil.example"}
    )


SCENARIOS: dict[str, Scenario] = {
    "AUTH_001": _wrong_password,
    "AUTH_002": _not_verified,
    "AUTH_003": _suspended,
    "AUTH_004": _bad_token,
    "AUTH_005": _email_taken,
    "AUTH_006": _weak_password,
    "AUTH_007": _bad_link,
    "AUTH_008": _refresh_reuse,
    "AUTH_009": _wrong_current_password,
    "AUTH_010": _setup_done,
    "AUTH_011": _not_admin,
    "AUTH_012": _self_lockout,
    "AUTH_013": _api_key_minting_keys,
    "AUTH_014": _api_key_on_sessions,
    "AUTH_015": _api_key_without_scope,
    "AUTH_016": _foreign_origin,
}


def test_every_code_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(AUTH_ERRORS)


@pytest.mark.parametrize("code", sorted(SCENARIOS))
async def test_error_code(client: httpx.AsyncClient, app: FastAPI, code: str) -> None:
    response = await SCENARIOS[code](client, app)
    body = response.json()
    assert response.status_code == AUTH_ERRORS[code].status_code, body
    assert body["success"] is False and body["data"] is None
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    assert response.headers["x-correlation-id"]


async def test_weak_password_details(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/register", json={"email": "grace@example.com", "password": "grace1234"}
    )
    details = response.json()["error"]["details"]
    assert {"field": "password", "message": "must be at least 10 characters"} in details
    assert {"field": "password", "message": "must not contain your email address"} in details


async def test_failed_registration_writes_and_mails_nothing(
    client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    email = unique_email()
    weak = await client.post("/api/auth/register", json={"email": email, "password": "short"})
    assert weak.status_code == 422
    # The address is still free: nothing was written by the failed attempt.
    ok = await client.post("/api/auth/register", json={"email": email, "password": PASSWORD})
    assert ok.status_code == 201
    await mailbox.wait_for(email)
    assert len(mailbox.to(email)) == 1


async def test_each_login_is_its_own_session(client: httpx.AsyncClient, app: FastAPI) -> None:
    email = unique_email()
    await create_user(app, email)
    a, b = await login(client, email), await login(client, email)
    assert a["access_token"] != b["access_token"] and a["session_id"] != b["session_id"]
