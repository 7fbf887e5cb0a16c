"""forgot -> mail -> reset -> every old session revoked; links single-use and expiring."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from allin.auth.models import UserStatus
from allin.core.clock import clock
from tests.auth.helpers import PASSWORD, bearer, create_user, login, unique_email
from tests.auth.mail import Mailbox

NEW_PASSWORD = "marmalade-comet-77"


async def _forgot(client: httpx.AsyncClient, email: str) -> httpx.Response:
    response = await client.post("/api/auth/forgot-password", json={"email": email})
    assert response.status_code == 202, response.text
    return response


async def test_forgot_reset_revokes_old_sessions(
    client: httpx.AsyncClient, app: FastAPI, mailbox: Mailbox
) -> None:
    email = unique_email()
    await create_user(app, email)
    laptop, phone = await login(client, email), await login(client, email)

    await _forgot(client, email)
    mail = await mailbox.wait_for(email)
    assert mail.message["Subject"] == "Reset your AllIN password"
    url, token = mail.link()
    assert url == "http://allin.test/reset-password"

    reset = await client.post(
        "/api/auth/reset-password", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert reset.status_code == 200, reset.text

    for session in (laptop, phone):
        me = await client.get("/api/auth/me", headers=bearer(session["access_token"]))
        assert me.status_code == 401 and me.json()["error"]["code"] == "AUTH_004"
        client.cookies.clear()
        refreshed = await client.post(
            "/api/auth/refresh", json={"refresh_token": session["refresh_token"]}
        )
        assert refreshed.status_code == 401
    old = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert old.json()["error"]["code"] == "AUTH_001"
    await login(client, email, NEW_PASSWORD)

    replay = await client.post(
        "/api/auth/reset-password", json={"token": token, "new_password": "another-one-99x"}
    )
    assert replay.status_code == 400 and replay.json()["error"]["code"] == "AUTH_007"


async def test_unknown_email_gets_the_same_answer_and_no_mail(
    client: httpx.AsyncClient, app: FastAPI, mailbox: Mailbox
) -> None:
    known = unique_email()
    await create_user(app, known)
    unknown = unique_email()
    a, b = await _forgot(client, known), await _forgot(client, unknown)
    assert a.json() == b.json()
    await mailbox.wait_for(known)
    assert mailbox.to(unknown) == []


async def test_weak_new_password_leaves_the_link_usable(
    client: httpx.AsyncClient, app: FastAPI, mailbox: Mailbox
) -> None:
    email = unique_email()
    await create_user(app, email)
    await _forgot(client, email)
    _, token = (await mailbox.wait_for(email)).link()
    weak = await client.post(
        "/api/auth/reset-password", json={"token": token, "new_password": "password123"}
    )
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "AUTH_006"
    good = await client.post(
        "/api/auth/reset-password", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert good.status_code == 200, good.text


async def test_expired_link(
    client: httpx.AsyncClient, app: FastAPI, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    email = unique_email()
    await create_user(app, email)
    await _forgot(client, email)
    _, token = (await mailbox.wait_for(email)).link()
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + timedelta(hours=1, seconds=1))
    expired = await client.post(
        "/api/auth/reset-password", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert expired.status_code == 400 and expired.json()["error"]["code"] == "AUTH_007"


async def test_newer_link_replaces_older(
    client: httpx.AsyncClient, app: FastAPI, mailbox: Mailbox
) -> None:
    email = unique_email()
    await create_user(app, email)
    await _forgot(client, email)
    _, first = (await mailbox.wait_for(email, 1)).link()
    await _forgot(client, email)
    _, second = (await mailbox.wait_for(email, 2)).link()
    body = {"new_password": NEW_PASSWORD}
    stale = await client.post("/api/auth/reset-password", json={"token": first, **body})
    assert stale.json()["error"]["code"] == "AUTH_007"
    fresh = await client.post("/api/auth/reset-password", json={"token": second, **body})
    assert fresh.status_code == 200


async def test_reset_proves_the_mailbox_of_a_pending_account(
    client: httpx.AsyncClient, app: FastAPI, mailbox: Mailbox
) -> None:
    email = unique_email()
    await create_user(app, email, status=UserStatus.PENDING_VERIFICATION)
    await _forgot(client, email)
    _, token = (await mailbox.wait_for(email)).link()
    reset = await client.post(
        "/api/auth/reset-password", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert reset.status_code == 200
    assert (await login(client, email, NEW_PASSWORD))["user"]["status"] == "ACTIVE"


async def test_suspended_account_gets_no_mail(
    client: httpx.AsyncClient, app: FastAPI, mailbox: Mailbox
) -> None:
    email, witness = unique_email(), unique_email()
    await create_user(app, email, status=UserStatus.SUSPENDED)
    await create_user(app, witness)
    await _forgot(client, email)
    await _forgot(client, witness)
    await mailbox.wait_for(witness)  # mails go out in order; the suspended one never did
    assert mailbox.to(email) == []


@pytest.mark.parametrize(
    "body",
    [
        {"token": "", "new_password": NEW_PASSWORD},
        {"token": "x" * 257, "new_password": NEW_PASSWORD},
        {"token": "abc"},
    ],
)
async def test_bad_reset_input(client: httpx.AsyncClient, body: dict[str, str]) -> None:
    response = await client.post("/api/auth/reset-password", json=body)
    assert response.status_code == 422


async def test_forged_link_token(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/reset-password", json={"token": "forged-token", "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "AUTH_007"
