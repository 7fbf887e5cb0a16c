"""First run: the first account is an admin; active at once with the console mail backend."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
from fastapi import FastAPI

from allin.app import create_app
from allin.core.config import Settings
from tests.auth.helpers import PASSWORD, login, unique_email
from tests.auth.mail import Mailbox
from tests.support.server import serve


async def test_console_backend_admin_is_active_at_once(
    auth_settings: Callable[..., Settings],
) -> None:
    app = create_app(auth_settings(email_backend="console"))
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        status = await http.get("/api/auth/setup")
        assert status.json()["data"] == {"needs_setup": True, "email_backend": "console"}
        email = unique_email("admin")
        created = await http.post(
            "/api/auth/setup", json={"email": email, "password": PASSWORD, "display_name": "Ops"}
        )
        assert created.status_code == 201, created.text
        data = created.json()["data"]
        assert data["verification_required"] is False
        assert data["user"]["role"] == "admin" and data["user"]["status"] == "ACTIVE"
        assert (await http.get("/api/auth/setup")).json()["data"]["needs_setup"] is False
        tokens = await login(http, email)
        users = await http.get(
            "/api/admin/users", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert users.status_code == 200 and users.json()["meta"]["total"] == 1
        again = await http.post(
            "/api/auth/setup", json={"email": unique_email(), "password": PASSWORD}
        )
        assert again.status_code == 409 and again.json()["error"]["code"] == "AUTH_010"


async def test_smtp_backend_admin_verifies_first(
    client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    email = unique_email("admin")
    created = await client.post("/api/auth/setup", json={"email": email, "password": PASSWORD})
    assert created.status_code == 201
    assert created.json()["data"]["verification_required"] is True
    _, token = (await mailbox.wait_for(email)).link()
    assert (await client.post("/api/auth/verify-email", json={"token": token})).status_code == 200
    assert (await login(client, email))["user"]["role"] == "admin"


async def test_concurrent_setups_create_one_admin(client: httpx.AsyncClient, app: FastAPI) -> None:
    responses = await asyncio.gather(
        *(
            client.post("/api/auth/setup", json={"email": unique_email(), "password": PASSWORD})
            for _ in range(4)
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1, [r.text for r in responses]
    assert all(r.json()["error"]["code"] == "AUTH_010" for r in responses if r.status_code != 201)


async def test_setup_validates_like_register(client: httpx.AsyncClient) -> None:
    weak = await client.post(
        "/api/auth/setup", json={"email": unique_email(), "password": "password123"}
    )
    assert weak.json()["error"]["code"] == "AUTH_006"
    assert (await client.get("/api/auth/setup")).json()["data"]["needs_setup"] is True
