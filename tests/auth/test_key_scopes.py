"""API keys carry scopes: the sign service and reads by default; publishing and other changes
only when granted; sessions and keys never. Suspending the owner stops every key."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from allin.app import create_app
from allin.auth.models import Role
from allin.core.config import Settings
from tests.auth.helpers import SignedIn, signed_in
from tests.support.server import serve

TIKTOK = "/api/integrations/tiktok"


@pytest.fixture
async def served(
    auth_settings: Callable[..., Settings],
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    app = create_app(auth_settings(sign_key_cache_ttl=0.3, tiktok_client_key="ck"))
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:
        yield http, app


async def _key(http: httpx.AsyncClient, user: SignedIn, **body: Any) -> dict[str, Any]:
    response = await http.post(
        "/api/auth/api-keys", headers=user.headers, json={"name": "k", **body}
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def _code(response: httpx.Response) -> tuple[int, str | None]:
    error = response.json().get("error")
    return response.status_code, error["code"] if isinstance(error, dict) else None


async def test_default_key_reads_and_signs_but_changes_nothing(
    served: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    http, app = served
    owner = await signed_in(http, app)
    key = await _key(http, owner)
    assert key["scopes"] == ["read", "sign"]
    as_key = {"x-api-key": key["key"]}
    assert (await http.get("/api/auth/me", headers=as_key)).status_code == 200
    assert (await http.get("/webcast/rate_limits", headers=as_key)).status_code == 200
    changed = await http.patch("/api/auth/me", headers=as_key, json={"display_name": "x"})
    assert _code(changed) == (403, "AUTH_015")
    assert changed.json()["error"]["details"] == {"required": "account"}
    publish = await http.post(
        f"{TIKTOK}/{uuid.uuid4()}/publish", headers=as_key, data={"video_url": "https://x.y/v"}
    )
    assert _code(publish) == (403, "AUTH_015")


async def test_keys_never_manage_sessions(served: tuple[httpx.AsyncClient, FastAPI]) -> None:
    http, app = served
    owner = await signed_in(http, app)
    key = await _key(http, owner, scopes=["sign", "read", "publish", "account"])
    as_key = {"x-api-key": key["key"]}
    for method, path in [
        ("DELETE", "/api/auth/sessions?include_current=true"),
        ("GET", "/api/auth/sessions"),
        ("DELETE", f"/api/auth/sessions/{uuid.uuid4()}"),
        ("POST", "/api/auth/change-password"),
    ]:
        response = await http.request(
            method, path, headers=as_key, json={} if method == "POST" else None
        )
        assert _code(response) == (403, "AUTH_014"), (method, path, response.text)
    assert (await http.get("/api/auth/me", headers=owner.headers)).status_code == 200


async def test_granted_scopes_open_their_routes(served: tuple[httpx.AsyncClient, FastAPI]) -> None:
    http, app = served
    owner = await signed_in(http, app)
    writer = {"x-api-key": (await _key(http, owner, scopes=["account", "publish"]))["key"]}
    changed = await http.patch("/api/auth/me", headers=writer, json={"display_name": "Ada"})
    assert changed.status_code == 200
    publish = await http.post(
        f"{TIKTOK}/{uuid.uuid4()}/publish", headers=writer, data={"video_url": "https://x.y/v"}
    )
    assert _code(publish) == (404, "NOT_FOUND")  # past the scope check: no such account
    # Without `sign` and `read`, the sign service and reads refuse the key.
    assert (await http.get("/webcast/rate_limits", headers=writer)).status_code == 401
    assert _code(await http.get("/api/auth/me", headers=writer)) == (403, "AUTH_015")
    unknown = await http.post(
        "/api/auth/api-keys", headers=owner.headers, json={"name": "k", "scopes": ["root"]}
    )
    assert unknown.status_code == 422


async def test_suspension_stops_keys_within_the_cache_time(
    served: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    http, app = served
    admin = await signed_in(http, app, role=Role.ADMIN)
    owner = await signed_in(http, app)
    as_key = {"x-api-key": (await _key(http, owner))["key"]}
    assert (await http.get("/webcast/rate_limits", headers=as_key)).status_code == 200
    suspended = await http.post(f"/api/admin/users/{owner.user_id}/suspend", headers=admin.headers)
    assert suspended.status_code == 200, suspended.text
    assert (await http.get("/api/auth/me", headers=as_key)).status_code == 401  # at once
    await asyncio.sleep(0.35)  # the sign service's key cache time
    assert (await http.get("/webcast/rate_limits", headers=as_key)).status_code == 401
