"""The whole path: register -> mail over SMTP -> verify -> login -> refresh -> reuse -> revoked."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.auth.helpers import PASSWORD, bearer, create_user, login, unique_email
from tests.auth.mail import Mailbox


async def test_register_verify_login_refresh_reuse(
    client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    await full_flow(client, mailbox)


async def test_refresh_from_cookie_and_logout(client: httpx.AsyncClient, app: FastAPI) -> None:
    await cookie_refresh_and_logout(client, app)


async def full_flow(client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    email = unique_email()
    registered = await client.post(
        "/api/auth/register",
        json={"email": email.upper(), "password": PASSWORD, "display_name": "Ada"},
    )
    assert registered.status_code == 201, registered.text
    user = registered.json()["data"]["user"]
    assert user["email"] == email  # normalised to lower case
    assert user["status"] == "PENDING_VERIFICATION"
    assert "password" not in str(registered.json())

    # Not verified yet: the right password gets AUTH_002.
    early = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert early.status_code == 403 and early.json()["error"]["code"] == "AUTH_002"

    mail = await mailbox.wait_for(email)
    assert mail.message["Subject"] == "Confirm your AllIN account"
    assert mail.sender == "no-reply@allin.test"
    url, token = mail.link()
    assert url == "http://allin.test/verify-email"

    verified = await client.post("/api/auth/verify-email", json={"token": token})
    assert verified.status_code == 200, verified.text
    assert verified.json()["data"]["status"] == "ACTIVE"
    assert verified.json()["data"]["email_verified_at"] is not None
    replayed = await client.post("/api/auth/verify-email", json={"token": token})
    assert replayed.status_code == 400 and replayed.json()["error"]["code"] == "AUTH_007"

    login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    first = login.json()["data"]
    assert first["token_type"] == "Bearer" and 0 < first["expires_in"] <= 900
    me = await client.get("/api/auth/me", headers=bearer(first["access_token"]))
    assert me.status_code == 200 and me.json()["data"]["email"] == email

    # Rotation: the refresh token works once and yields a new one in the same session.
    client.cookies.clear()  # use the body, not the cookie
    rotated = await client.post("/api/auth/refresh", json={"refreshToken": first["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["data"]
    assert second["refresh_token"] != first["refresh_token"]
    assert second["session_id"] == first["session_id"]
    client.cookies.clear()

    # Replaying the used token: reuse detected, the whole family is revoked ...
    reused = await client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401 and reused.json()["error"]["code"] == "AUTH_008"
    # ... so the newest refresh token and every access token of the session stop working.
    newest = await client.post("/api/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert newest.status_code == 401 and newest.json()["error"]["code"] == "AUTH_004"
    for token in (first["access_token"], second["access_token"]):
        denied = await client.get("/api/auth/me", headers=bearer(token))
        assert denied.status_code == 401 and denied.json()["error"]["code"] == "AUTH_004"

    # A new login still works: only that family was revoked.
    again = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert again.status_code == 200
    assert again.json()["data"]["session_id"] != first["session_id"]


async def cookie_refresh_and_logout(client: httpx.AsyncClient, app: FastAPI) -> None:
    email = unique_email()
    await create_user(app, email)
    tokens = await login(client, email)
    cookie = client.cookies.get("allin_refresh")
    assert cookie == tokens["refresh_token"]

    # No body: the HttpOnly cookie (path /api/auth) carries the refresh token.
    rotated = await client.post("/api/auth/refresh")
    assert rotated.status_code == 200, rotated.text
    fresh = rotated.json()["data"]
    assert client.cookies.get("allin_refresh") == fresh["refresh_token"]

    out = await client.post("/api/auth/logout", headers=bearer(fresh["access_token"]))
    assert out.status_code == 200
    assert client.cookies.get("allin_refresh") is None
    denied = await client.get("/api/auth/me", headers=bearer(fresh["access_token"]))
    assert denied.json()["error"]["code"] == "AUTH_004"
    after = await client.post("/api/auth/refresh", json={"refresh_token": fresh["refresh_token"]})
    assert after.status_code == 401 and after.json()["error"]["code"] == "AUTH_004"
    missing = await client.post("/api/auth/refresh")
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "AUTH_004"


async def test_resend_verification(
    client: httpx.AsyncClient, app: FastAPI, mailbox: Mailbox
) -> None:
    pending, active = unique_email(), unique_email()
    await client.post("/api/auth/register", json={"email": pending, "password": PASSWORD})
    await create_user(app, active)
    _, first = (await mailbox.wait_for(pending, 1)).link()
    for email in (pending, active, unique_email()):
        response = await client.post("/api/auth/resend-verification", json={"email": email})
        assert response.status_code == 202
    _, second = (await mailbox.wait_for(pending, 2)).link()
    stale = await client.post("/api/auth/verify-email", json={"token": first})
    assert stale.json()["error"]["code"] == "AUTH_007"  # the new link replaced it
    assert (await client.post("/api/auth/verify-email", json={"token": second})).is_success
    assert mailbox.to(active) == []
