"""Login: statuses, enumeration safety (same answer, same work), rehash, bad input."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from argon2 import extract_parameters
from fastapi import FastAPI
from sqlalchemy import select

from allin.auth.email import ConsoleEmailBackend
from allin.auth.errors import InvalidCredentialsError
from allin.auth.models import User, UserStatus
from allin.auth.passwords import Passwords
from allin.auth.runtime import auth_runtime
from allin.auth.service import AuthService
from allin.auth.sessions import DatabaseSessionStore
from allin.core.config import Settings
from allin.core.domain import app_state
from allin.db.engine import create_engine, create_session_factory
from allin.db.migrate import upgrade_async
from tests.auth.helpers import PASSWORD, create_user, unique_email


async def _login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"email": email, "password": password})


async def test_suspended_account(client: httpx.AsyncClient, app: FastAPI) -> None:
    email = unique_email()
    await create_user(app, email, status=UserStatus.SUSPENDED)
    response = await _login(client, email, PASSWORD)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "AUTH_003"
    # Without the right password the status is not revealed.
    wrong = await _login(client, email, "wrong-password-123")
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "AUTH_001"


async def test_unknown_email_and_wrong_password_look_the_same(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    email = unique_email()
    await create_user(app, email)
    unknown = await _login(client, unique_email(), PASSWORD)
    wrong = await _login(client, email, "wrong-password-123")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert unknown.json()["error"] == {
        "code": "AUTH_001",
        "message": "Invalid email or password",
        "details": None,
    }
    assert unknown.headers.get("www-authenticate") == wrong.headers.get("www-authenticate")


async def test_unknown_email_still_runs_argon2(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    passwords = auth_runtime(app).passwords
    calls: list[str] = []
    real_verify = passwords.verify

    async def spy(stored: str, password: str) -> bool:
        calls.append(stored)
        return await real_verify(stored, password)

    monkeypatch.setattr(passwords, "verify", spy)
    await _login(client, unique_email(), PASSWORD)
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")


async def test_enumeration_timing_with_production_hashing(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    """With the OWASP profile, an unknown email costs about as much as a wrong password."""
    settings = make_settings(database_url=database_url, password_hash_profile="owasp")
    assert settings.password_hash_profile == "owasp"
    await upgrade_async(database_url)
    engine = create_engine(database_url)
    factory = create_session_factory(engine)
    passwords = Passwords("owasp")
    try:
        async with factory() as db:
            service = AuthService(
                db, settings, DatabaseSessionStore(db, settings), passwords, ConsoleEmailBackend()
            )
            await service.create_user("known@example.com", PASSWORD, active=True)
            await db.commit()

            async def timed(email: str) -> float:
                started = time.perf_counter()
                with pytest.raises(InvalidCredentialsError):
                    await service.login(email, "wrong-password-123", user_agent=None, ip=None)
                return time.perf_counter() - started

            await timed("nobody@example.com")  # builds the dummy hash once
            # Interleaved samples and their minimum: load spikes on a shared box hit both
            # sides alike and cannot fake a difference.
            unknown_times, known_times = [], []
            for _ in range(9):
                unknown_times.append(await timed("nobody@example.com"))
                known_times.append(await timed("known@example.com"))
            unknown, known = min(unknown_times), min(known_times)
    finally:
        await engine.dispose()
    assert known > 0.005  # argon2 work really happens
    assert 0.5 < unknown / known < 2.0, (unknown, known)


async def test_login_rehashes_when_parameters_change(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    email = unique_email()
    user_id = await create_user(app, email)
    async with app_state(app).session_factory() as db:
        user = await db.get(User, user_id)
        assert user is not None
        user.password_hash = await Passwords("owasp").hash(PASSWORD)  # an older profile
        await db.commit()
    assert (await _login(client, email, PASSWORD)).status_code == 200
    async with app_state(app).session_factory() as db:
        stored = await db.scalar(select(User.password_hash).where(User.id == user_id))
    assert stored is not None and extract_parameters(stored).memory_cost == 8  # test profile


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "a@example.com"}, "password"),
        ({"email": "a@example.com", "password": "x" * 129}, "password"),
        ({"email": "a" * 250 + "@example.com", "password": PASSWORD}, "email"),
        ({"email": "a@example.com", "password": PASSWORD, "remember": True}, "remember"),
    ],
)
async def test_bad_input(client: httpx.AsyncClient, body: dict[str, Any], field: str) -> None:
    response = await client.post("/api/auth/login", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert any(d["field"] == field for d in error["details"]), error


async def test_email_is_case_insensitive(client: httpx.AsyncClient, app: FastAPI) -> None:
    email = unique_email()
    await create_user(app, email)
    assert (await _login(client, "  " + email.upper(), PASSWORD)).status_code == 200
