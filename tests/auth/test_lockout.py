"""Nobody can lock the owner out (ASVS 2.2.1), and nobody picks their own address.

Failed sign-ins from unknown browsers share the account's bucket; a browser that signed in
before keeps its own. X-Forwarded-For is believed only from ALLIN_TRUSTED_PROXIES."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from allin.app import create_app
from allin.auth.devices import DEVICE_COOKIE
from allin.core.config import Settings
from tests.auth.conftest import auth_test_settings
from tests.auth.helpers import PASSWORD, create_user, unique_email
from tests.auth.mail import SmtpServer
from tests.support.server import serve

LOGIN = "/api/auth/login"


def _app(make_settings: Callable[..., Settings], smtp: SmtpServer, **extra: Any) -> FastAPI:
    return create_app(
        make_settings(
            **auth_test_settings(smtp.port),
            rate_limit_login_ip="10/minute",
            rate_limit_login_account="3/minute",
            **extra,
        )
    )


@pytest.fixture
async def base_url(
    make_settings: Callable[..., Settings], smtp: SmtpServer
) -> AsyncIterator[tuple[str, FastAPI]]:
    app = _app(make_settings, smtp)
    async with serve(app) as url:
        yield url, app


async def _login(http: httpx.AsyncClient, email: str, password: str, **kw: Any) -> int:
    response = await http.post(LOGIN, json={"email": email, "password": password}, **kw)
    return response.status_code


async def test_strangers_cannot_lock_the_owner_out(base_url: tuple[str, FastAPI]) -> None:
    url, app = base_url
    email = unique_email()
    await create_user(app, email)
    async with httpx.AsyncClient(base_url=url) as owner, httpx.AsyncClient(base_url=url) as thief:
        assert await _login(owner, email, PASSWORD) == 200
        cookie = owner.cookies.get(DEVICE_COOKIE, path="/api/auth/login")
        assert cookie and "." in cookie
        for _ in range(3):
            assert await _login(thief, email, "wrong-password-1") == 401
        assert await _login(thief, email, PASSWORD) == 429  # unknown browsers are throttled
        assert await _login(owner, email, PASSWORD) == 200  # the owner's device is not

        # A known device guessing is throttled in its own bucket.
        for _ in range(3):
            assert await _login(owner, email, "wrong-password-1") == 401
        assert await _login(owner, email, PASSWORD) == 429


async def test_a_device_cookie_is_for_one_account(base_url: tuple[str, FastAPI]) -> None:
    url, app = base_url
    victim, mine = unique_email(), unique_email()
    await create_user(app, victim)
    await create_user(app, mine)
    async with httpx.AsyncClient(base_url=url) as thief:
        assert await _login(thief, mine, PASSWORD) == 200  # the thief's own account
        for _ in range(3):
            assert await _login(thief, victim, "wrong-password-1") == 401
        assert await _login(thief, victim, PASSWORD) == 429
        thief.cookies.set(DEVICE_COOKIE, "forged.0000", path="/api/auth/login")
        assert await _login(thief, victim, PASSWORD) == 429


async def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(
    base_url: tuple[str, FastAPI],
) -> None:
    url, _ = base_url
    async with httpx.AsyncClient(base_url=url) as http:
        codes = [
            await _login(
                http, unique_email(), "wrong-password-1", headers={"x-forwarded-for": f"10.0.0.{i}"}
            )
            for i in range(12)
        ]
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]


async def test_a_trusted_proxy_names_the_client(
    make_settings: Callable[..., Settings], smtp: SmtpServer
) -> None:
    app = _app(make_settings, smtp, trusted_proxies="127.0.0.0/8, ::1")
    email = unique_email()
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:
        await create_user(app, email)
        codes = [
            await _login(
                http, unique_email(), "wrong-password-1", headers={"x-forwarded-for": f"10.0.0.{i}"}
            )
            for i in range(12)
        ]
        assert codes == [401] * 12  # twelve clients behind the proxy, one failure each
        chain = {"x-forwarded-for": "203.0.113.9, 10.9.9.9, 127.0.0.1"}
        response = await http.post(
            LOGIN, json={"email": email, "password": PASSWORD}, headers=chain
        )
        assert response.status_code == 200
        token = response.json()["data"]["access_token"]
        sessions = await http.get(
            "/api/auth/sessions", headers={"authorization": f"Bearer {token}"}
        )
        # The rightmost address no trusted proxy vouches for is the client.
        assert sessions.json()["data"][0]["ip"] == "10.9.9.9"


def test_bad_trusted_proxy_is_refused(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ValueError, match="not an IP address or CIDR"):
        make_settings(trusted_proxies="10.0.0.0/8,proxy.example")
