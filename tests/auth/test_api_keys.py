"""API keys: shown once, stored hashed, usable as Bearer or x-api-key, revocable, expiring."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from allin.auth.api_keys import authenticate_api_key, generate_key, is_well_formed
from allin.auth.models import ApiKey, User, UserStatus
from allin.auth.tokens import hash_secret
from allin.core.clock import clock
from allin.core.domain import app_state
from tests.auth.helpers import SignedIn, bearer, signed_in


async def _create(client: httpx.AsyncClient, user: SignedIn, **body: object) -> dict[str, object]:
    response = await client.post(
        "/api/auth/api-keys", headers=user.headers, json={"name": "bot", **body}
    )
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()["data"]
    return data


async def test_key_is_shown_once_and_stored_hashed(client: httpx.AsyncClient, app: FastAPI) -> None:
    user = await signed_in(client, app)
    created = await _create(client, user, name="TikTokLive bot")
    raw = str(created["key"])
    assert is_well_formed(raw)
    assert raw.startswith(str(created["prefix"]) + "_") and len(str(created["prefix"])) == 14
    assert created["status"] == "active"

    listed = await client.get("/api/auth/api-keys", headers=user.headers)
    assert listed.status_code == 200
    [item] = listed.json()["data"]
    assert "key" not in item and raw not in listed.text
    assert item["prefix"] == created["prefix"] and item["name"] == "TikTokLive bot"

    async with app_state(app).session_factory() as db:
        stored = await db.scalar(select(ApiKey))
    assert stored is not None and stored.key_hash == hash_secret(raw)
    assert raw not in repr(stored.__dict__)


@pytest.mark.parametrize("header", ["authorization", "x-api-key"])
async def test_key_authenticates_and_profile_shows_its_status(
    client: httpx.AsyncClient, app: FastAPI, header: str
) -> None:
    user = await signed_in(client, app)
    raw = str((await _create(client, user))["key"])
    headers = bearer(raw) if header == "authorization" else {"x-api-key": raw}
    profile = await client.get("/api/user/profile", headers=headers)
    assert profile.status_code == 200, profile.text
    data = profile.json()["data"]
    assert data["user"]["email"] == user.email
    assert data["auth"]["method"] == "api_key"
    assert data["auth"]["api_key"]["status"] == "active"
    assert data["auth"]["api_key"]["last_used_at"] is not None
    assert data["api_keys"] == {"total": 1, "active": 1}
    me = await client.get("/api/auth/me", headers=headers)
    assert me.status_code == 200 and me.json()["data"]["id"] == str(user.user_id)


async def test_profile_with_jwt(client: httpx.AsyncClient, app: FastAPI) -> None:
    user = await signed_in(client, app)
    data = (await client.get("/api/user/profile", headers=user.headers)).json()["data"]
    assert data["auth"] == {"method": "jwt", "api_key": None}
    assert data["api_keys"] == {"total": 0, "active": 0}


async def test_revoked_key_stops_working(client: httpx.AsyncClient, app: FastAPI) -> None:
    user = await signed_in(client, app)
    created = await _create(client, user)
    raw = str(created["key"])
    revoked = await client.delete(f"/api/auth/api-keys/{created['id']}", headers=user.headers)
    assert revoked.status_code == 200 and revoked.json()["data"]["status"] == "revoked"
    denied = await client.get("/api/user/profile", headers=bearer(raw))
    assert denied.status_code == 401 and denied.json()["error"]["code"] == "AUTH_004"


async def test_expired_key(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await signed_in(client, app)
    created = await _create(client, user, expires_in_days=1)
    raw = str(created["key"])
    assert (await client.get("/api/user/profile", headers=bearer(raw))).status_code == 200
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + timedelta(days=1, seconds=1))
    denied = await client.get("/api/user/profile", headers=bearer(raw))
    assert denied.status_code == 401 and denied.json()["error"]["code"] == "AUTH_004"


async def test_other_users_key_is_not_found(client: httpx.AsyncClient, app: FastAPI) -> None:
    alice, bob = await signed_in(client, app), await signed_in(client, app)
    created = await _create(client, alice)
    response = await client.delete(f"/api/auth/api-keys/{created['id']}", headers=bob.headers)
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
    assert (await client.get("/api/auth/api-keys", headers=bob.headers)).json()["data"] == []
    still = await client.get("/api/user/profile", headers=bearer(str(created["key"])))
    assert still.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "x" * 101},
        {"name": "a", "expires_at": "2020-01-01T00:00:00Z"},
        {"name": "a", "expires_at": "2999-01-01T00:00:00"},  # no timezone
        {"name": "a", "expires_in_days": 0},
        {"name": "a", "expires_in_days": 1, "expires_at": "2999-01-01T00:00:00Z"},
    ],
)
async def test_bad_key_requests(
    client: httpx.AsyncClient, app: FastAPI, body: dict[str, object]
) -> None:
    user = await signed_in(client, app)
    response = await client.post("/api/auth/api-keys", headers=user.headers, json=body)
    assert response.status_code in (400, 422), response.text
    assert (await client.get("/api/auth/api-keys", headers=user.headers)).json()["data"] == []


async def test_authenticate_api_key_for_other_services(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    user = await signed_in(client, app)
    raw = str((await _create(client, user))["key"])
    async with app_state(app).session_factory() as db:
        key = await authenticate_api_key(db, raw)
        assert key is not None and key.user.email == user.email
        assert await authenticate_api_key(db, raw + "x") is None
        assert await authenticate_api_key(db, generate_key()[0]) is None
        assert await authenticate_api_key(db, "") is None
        owner = await db.get(User, user.user_id)
        assert owner is not None
        owner.status = UserStatus.SUSPENDED
        await db.commit()
    async with app_state(app).session_factory() as db:
        assert await authenticate_api_key(db, raw) is None


@given(st.text(max_size=80))
def test_well_formed_is_strict(text: str) -> None:
    if is_well_formed(text):
        assert text.startswith("allin_") and len(text) == 6 + 8 + 1 + 43


def test_generated_keys_are_well_formed_and_unique() -> None:
    keys = {generate_key()[0] for _ in range(200)}
    assert len(keys) == 200 and all(is_well_formed(k) for k in keys)
