"""Both session stores (database, Redis) keep the same contract; the Redis one also runs the
full HTTP flow."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from allin.app import create_app
from allin.auth.errors import InvalidTokenError, RefreshReuseError
from allin.auth.models import Role, User
from allin.auth.sessions import DatabaseSessionStore, SessionStore
from allin.auth.sessions_redis import RedisSessionStore
from allin.core.clock import clock
from allin.core.config import Settings
from allin.db.engine import create_engine, create_session_factory
from allin.db.migrate import upgrade_async
from tests.auth.helpers import bearer, create_user, login, signed_in, unique_email
from tests.auth.mail import Mailbox
from tests.auth.test_flow import cookie_refresh_and_logout, full_flow
from tests.support.server import serve


def _prefix() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.redis)])
async def store(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], database_url: str
) -> AsyncIterator[tuple[SessionStore, uuid.UUID]]:
    """A store and a user id it may refer to."""
    await upgrade_async(database_url)
    engine = create_engine(database_url)
    user_id = uuid.uuid4()
    async with create_session_factory(engine)() as db:
        db.add(
            User(id=user_id, email=f"{user_id}@example.com", password_hash="x", display_name="u")
        )
        await db.flush()
        if request.param == "database":
            yield DatabaseSessionStore(db, make_settings(database_url=database_url)), user_id
        else:
            url = request.getfixturevalue("redis_url")
            settings = make_settings(redis_url=url, redis_key_prefix=_prefix())
            redis = Redis.from_url(url)
            yield RedisSessionStore(redis, settings), user_id
            await redis.aclose()
    await engine.dispose()


async def test_rotation_and_reuse(store: tuple[SessionStore, uuid.UUID]) -> None:
    sessions, user_id = store
    first = await sessions.create(user_id, user_agent="ua", ip="10.0.0.1")
    second = await sessions.rotate(first.refresh_token)
    assert second.session.id == first.session.id
    assert second.refresh_token != first.refresh_token
    third = await sessions.rotate(second.refresh_token)
    with pytest.raises(RefreshReuseError):
        await sessions.rotate(first.refresh_token)
    with pytest.raises(InvalidTokenError):
        await sessions.rotate(third.refresh_token)  # the family is gone
    info = await sessions.get(first.session.id)
    assert info is not None and info.revoked_at is not None
    with pytest.raises(InvalidTokenError):
        await sessions.rotate("never-issued")


async def test_list_and_revoke(store: tuple[SessionStore, uuid.UUID]) -> None:
    sessions, user_id = store
    a = await sessions.create(user_id, user_agent="a" * 600, ip="10.0.0.1")
    b = await sessions.create(user_id, user_agent=None, ip=None)
    c = await sessions.create(user_id, user_agent="c", ip="10.0.0.3")
    listed = await sessions.list_active(user_id)
    assert {s.id for s in listed} == {a.session.id, b.session.id, c.session.id}
    assert max(len(s.user_agent or "") for s in listed) == 512  # clipped
    assert await sessions.revoke(b.session.id, reason="test")
    assert not await sessions.revoke(b.session.id, reason="again")
    assert not await sessions.revoke(uuid.uuid4(), reason="unknown")
    assert await sessions.revoke_all(user_id, reason="test", keep=a.session.id) == 1
    assert [s.id for s in await sessions.list_active(user_id)] == [a.session.id]
    with pytest.raises(InvalidTokenError):
        await sessions.rotate(c.refresh_token)
    assert await sessions.list_active(uuid.uuid4()) == []


async def test_expiry(
    store: tuple[SessionStore, uuid.UUID], monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions, user_id = store
    issued = await sessions.create(user_id, user_agent=None, ip=None)
    assert issued.expires_at - issued.session.created_at == timedelta(days=7)
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + timedelta(days=7, seconds=1))
    with pytest.raises(InvalidTokenError, match="expired"):
        await sessions.rotate(issued.refresh_token)


@pytest.mark.redis
async def test_concurrent_rotation_on_redis_lets_one_win(
    make_settings: Callable[..., Settings], redis_url: str
) -> None:
    redis = Redis.from_url(redis_url)
    sessions = RedisSessionStore(redis, make_settings(redis_key_prefix=_prefix()))
    user_id = uuid.uuid4()
    issued = await sessions.create(user_id, user_agent=None, ip=None)
    results = await asyncio.gather(
        *(sessions.rotate(issued.refresh_token) for _ in range(5)), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    errors = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(e, RefreshReuseError | InvalidTokenError) for e in errors), errors
    info = await sessions.get(issued.session.id)
    assert info is not None and info.revoked_at is not None
    await redis.aclose()


async def test_concurrent_rotation_in_the_database_lets_one_win(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    """Two requests (transactions) present the same token at once: one rotates it, the
    other is treated as a replay."""
    settings = make_settings(database_url=database_url)
    await upgrade_async(database_url)
    engine = create_engine(database_url)
    factory = create_session_factory(engine)
    user_id = uuid.uuid4()
    try:
        async with factory() as db:
            db.add(User(id=user_id, email="c@example.com", password_hash="x", display_name="c"))
            await db.flush()
            issued = await DatabaseSessionStore(db, settings).create(
                user_id, user_agent=None, ip=None
            )
            await db.commit()

        async def attempt() -> str:
            async with factory() as db:
                try:
                    await DatabaseSessionStore(db, settings).rotate(issued.refresh_token)
                    await db.commit()
                    return "rotated"
                except (RefreshReuseError, InvalidTokenError) as error:
                    await db.rollback()
                    return error.code

        outcomes = await asyncio.gather(attempt(), attempt())
        async with factory() as db:
            info = await DatabaseSessionStore(db, settings).get(issued.session.id)
    finally:
        await engine.dispose()
    assert sorted(outcomes) in (["AUTH_008", "rotated"], ["AUTH_004", "rotated"]), outcomes
    assert info is not None and info.revoked_at is not None


# --- the HTTP flows on the Redis store --------------------------------------------------


@pytest.fixture
async def redis_app(
    auth_settings: Callable[..., Settings], redis_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    settings = auth_settings(session_store="redis", redis_url=redis_url, redis_key_prefix=_prefix())
    app = create_app(settings)
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        yield http, app


@pytest.mark.redis
async def test_full_flow_on_redis(
    redis_app: tuple[httpx.AsyncClient, FastAPI], mailbox: Mailbox
) -> None:
    await full_flow(redis_app[0], mailbox)


@pytest.mark.redis
async def test_cookie_refresh_and_logout_on_redis(
    redis_app: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    await cookie_refresh_and_logout(*redis_app)


@pytest.mark.redis
async def test_suspension_and_reset_revoke_redis_sessions(
    redis_app: tuple[httpx.AsyncClient, FastAPI], mailbox: Mailbox
) -> None:
    http, app = redis_app
    admin = await signed_in(http, app, role=Role.ADMIN)
    email = unique_email()
    user_id = await create_user(app, email)
    tokens = await login(http, email)
    listed = await http.get("/api/auth/sessions", headers=bearer(tokens["access_token"]))
    assert [s["id"] for s in listed.json()["data"]] == [tokens["session_id"]]
    await http.post(f"/api/admin/users/{user_id}/suspend", headers=admin.headers)
    assert (await http.get("/api/auth/me", headers=bearer(tokens["access_token"]))).is_error

    await http.post(f"/api/admin/users/{user_id}/activate", headers=admin.headers)
    tokens = await login(http, email)
    await http.post("/api/auth/forgot-password", json={"email": email})
    _, token = (await mailbox.wait_for(email)).link()
    reset = await http.post(
        "/api/auth/reset-password", json={"token": token, "new_password": "marmalade-comet-77"}
    )
    assert reset.status_code == 200
    assert (await http.get("/api/auth/me", headers=bearer(tokens["access_token"]))).is_error
