"""Rate limits on login, register, forgot-password and resend: 429 + Retry-After, then recovery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI

from allin.app import create_app
from allin.core.config import Settings
from tests.auth.conftest import auth_test_settings
from tests.auth.helpers import PASSWORD, create_user, unique_email
from tests.auth.mail import SmtpServer
from tests.support.server import serve


@pytest.fixture
async def limited(
    make_settings: Callable[..., Settings], smtp: SmtpServer
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    # Limits do not depend on the database, so these run on the default SQLite only.
    app = create_app(
        make_settings(
            **auth_test_settings(smtp.port),
            rate_limit_login_ip="4/second",
            rate_limit_login_account="2/second",
            rate_limit_register_ip="2/second",
            rate_limit_email_ip="3/second",
            rate_limit_email_account="1/second",
        )
    )
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        yield http, app


def assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "RATE_LIMITED"
    assert int(response.headers["retry-after"]) == 1
    assert response.headers["x-ratelimit-remaining"] == "0"


async def _login(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await http.post("/api/auth/login", json={"email": email, "password": password})


async def test_failed_logins_lock_the_account_then_recover(
    limited: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    http, app = limited
    email = unique_email()
    await create_user(app, email)
    for _ in range(2):
        assert (await _login(http, email, "wrong-password-1")).status_code == 401
    # Locked: even the right password waits (the answer is the same for unknown emails).
    assert_limited(await _login(http, email, PASSWORD))
    await asyncio.sleep(1.05)
    assert (await _login(http, email, PASSWORD)).status_code == 200


async def test_unknown_email_is_limited_the_same_way(
    limited: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    http, _ = limited
    ghost = unique_email()
    for _ in range(2):
        assert (await _login(http, ghost, "wrong-password-1")).status_code == 401
    assert_limited(await _login(http, ghost, "wrong-password-1"))


async def test_login_per_ip(limited: tuple[httpx.AsyncClient, FastAPI]) -> None:
    http, _ = limited
    for _ in range(4):  # different accounts: only the IP limit applies
        assert (await _login(http, unique_email(), "wrong-password-1")).status_code == 401
    assert_limited(await _login(http, unique_email(), "wrong-password-1"))
    await asyncio.sleep(1.05)
    assert (await _login(http, unique_email(), "wrong-password-1")).status_code == 401


async def test_register_per_ip(limited: tuple[httpx.AsyncClient, FastAPI]) -> None:
    http, _ = limited

    async def register() -> httpx.Response:
        body = {"email": unique_email(), "password": PASSWORD}
        return await http.post("/api/auth/register", json=body)

    assert (await register()).status_code == 201
    assert (await register()).status_code == 201
    assert_limited(await register())
    await asyncio.sleep(1.05)
    assert (await register()).status_code == 201


@pytest.mark.parametrize("path", ["/api/auth/forgot-password", "/api/auth/resend-verification"])
async def test_email_actions_per_account_and_ip(
    limited: tuple[httpx.AsyncClient, FastAPI], path: str
) -> None:
    http, _ = limited
    email = unique_email()
    assert (await http.post(path, json={"email": email})).status_code == 202
    assert_limited(await http.post(path, json={"email": email.upper()}))  # same account
    assert (await http.post(path, json={"email": unique_email()})).status_code == 202
    # Third request from this IP inside the second: the IP limit (3/second) is used up.
    assert_limited(await http.post(path, json={"email": unique_email()}))
    await asyncio.sleep(1.05)
    assert (await http.post(path, json={"email": email})).status_code == 202
