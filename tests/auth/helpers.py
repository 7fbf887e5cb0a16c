"""Test helpers other domains can import: make users and sign them in.

from tests.auth.helpers import signed_in
alice = await signed_in(client, app)           # an ACTIVE user with a fresh login
await client.get("/api/things", headers=alice.headers)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from allin.auth.models import Role, UserStatus
from allin.auth.runtime import auth_runtime
from allin.auth.service import AuthService
from allin.core.domain import app_state

PASSWORD = "tangerine-orbit-42"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unique_email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"


async def create_user(
    app: FastAPI,
    email: str | None = None,
    password: str = PASSWORD,
    *,
    role: Role = Role.USER,
    status: UserStatus = UserStatus.ACTIVE,
) -> uuid.UUID:
    """Insert a user straight into the database (the app must be running)."""
    runtime = auth_runtime(app)
    async with app_state(app).session_factory() as db:
        service = AuthService(
            db, runtime.settings, runtime.session_store(db), runtime.passwords, runtime.mailer
        )
        user = await service.create_user(
            email or unique_email(), password, role=role, active=status == UserStatus.ACTIVE
        )
        user.status = status
        await db.commit()
        return user.id


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


@dataclass
class SignedIn:
    user_id: uuid.UUID
    email: str
    tokens: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.tokens["access_token"])


async def signed_in(
    client: httpx.AsyncClient, app: FastAPI, *, role: Role = Role.USER, email: str | None = None
) -> SignedIn:
    email = email or unique_email(role.value)
    user_id = await create_user(app, email, role=role)
    return SignedIn(user_id, email, await login(client, email))
