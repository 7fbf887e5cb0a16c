"""The public dependencies: CurrentUser, OptionalUser, AdminUser, owned_or_404 / owned."""

from __future__ import annotations

import uuid
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI

from allin.app import create_app
from allin.auth.deps import AdminUser, CurrentUser, OptionalUser, owned, owned_or_404
from allin.auth.models import ApiKey, AppSetting, Role, User, UserStatus
from allin.core.config import Settings
from allin.core.domain import app_state
from allin.core.errors import NotFoundError
from tests.auth.helpers import bearer, signed_in
from tests.support.server import serve


def _probe_router() -> APIRouter:
    router = APIRouter(prefix="/api/probe")

    @router.get("/optional")
    async def optional(user: OptionalUser) -> dict[str, str | None]:
        return {"email": user.email if user else None}

    @router.get("/admin")
    async def admin(user: AdminUser) -> dict[str, str]:
        return {"email": user.email}

    @router.get("/keys/{key_id}")
    async def key(
        key: Annotated[ApiKey, Depends(owned(ApiKey, "key_id"))], user: CurrentUser
    ) -> dict[str, str]:
        return {"name": key.name, "owner": user.email}

    return router


@pytest.fixture
async def probe(settings: Settings) -> object:
    app = create_app(settings)
    app.include_router(_probe_router())
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        yield http, app


async def test_optional_user(probe: tuple[httpx.AsyncClient, FastAPI]) -> None:
    http, app = probe
    assert (await http.get("/api/probe/optional")).json() == {"email": None}
    user = await signed_in(http, app)
    assert (await http.get("/api/probe/optional", headers=user.headers)).json() == {
        "email": user.email
    }
    # Bad credentials are an error, not "anonymous".
    assert (await http.get("/api/probe/optional", headers=bearer("junk"))).status_code == 401


async def test_admin_user(probe: tuple[httpx.AsyncClient, FastAPI]) -> None:
    http, app = probe
    admin, user = await signed_in(http, app, role=Role.ADMIN), await signed_in(http, app)
    assert (await http.get("/api/probe/admin", headers=admin.headers)).status_code == 200
    denied = await http.get("/api/probe/admin", headers=user.headers)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "AUTH_011"
    assert (await http.get("/api/probe/admin")).status_code == 401


async def test_owned_dependency_hides_other_users_objects(
    probe: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    http, app = probe
    alice, bob = await signed_in(http, app), await signed_in(http, app)
    created = await http.post("/api/auth/api-keys", headers=alice.headers, json={"name": "a"})
    key_id = created.json()["data"]["id"]
    mine = await http.get(f"/api/probe/keys/{key_id}", headers=alice.headers)
    assert mine.json() == {"name": "a", "owner": alice.email}
    theirs = await http.get(f"/api/probe/keys/{key_id}", headers=bob.headers)
    missing = await http.get(f"/api/probe/keys/{uuid.uuid4()}", headers=bob.headers)
    malformed = await http.get("/api/probe/keys/not-a-uuid", headers=bob.headers)
    # Someone else's object, no object and a malformed id are indistinguishable.
    assert theirs.status_code == missing.status_code == malformed.status_code == 404
    assert theirs.json() == missing.json() == malformed.json()


async def test_owned_or_404_directly(client: httpx.AsyncClient, app: FastAPI) -> None:
    alice, bob = await signed_in(client, app), await signed_in(client, app)
    created = await client.post("/api/auth/api-keys", headers=alice.headers, json={"name": "k"})
    key_id = created.json()["data"]["id"]
    async with app_state(app).session_factory() as db:
        owner = await db.get(User, alice.user_id)
        other = await db.get(User, bob.user_id)
        assert owner is not None and other is not None
        assert (await owned_or_404(db, ApiKey, key_id, owner)).name == "k"
        assert (await owned_or_404(db, ApiKey, uuid.UUID(key_id), owner)).name == "k"
        for bad in (key_id, "nope", None, 42):
            with pytest.raises(NotFoundError):
                await owned_or_404(db, ApiKey, bad, other if bad == key_id else owner)
        with pytest.raises(TypeError, match="owner_id or user_id"):
            await owned_or_404(db, AppSetting, "k", owner)


async def test_status_changes_apply_to_live_tokens(client: httpx.AsyncClient, app: FastAPI) -> None:
    user = await signed_in(client, app)
    for status, code in (
        (UserStatus.PENDING_VERIFICATION, "AUTH_002"),
        (UserStatus.SUSPENDED, "AUTH_003"),
    ):
        async with app_state(app).session_factory() as db:
            row = await db.get(User, user.user_id)
            assert row is not None
            row.status = status
            await db.commit()
        response = await client.get("/api/auth/me", headers=user.headers)
        assert response.status_code == 403 and response.json()["error"]["code"] == code
