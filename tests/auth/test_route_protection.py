"""Every route of the app rejects anonymous calls with 401 unless it is on the explicit
public list (`allin.auth.public.PUBLIC_PATHS`). Routes are read from `create_app()`, so
routers added later are walked too."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from allin.app import create_app
from allin.auth.deps import CurrentUser
from allin.auth.public import PUBLIC_PATHS, is_public
from allin.core.config import Settings
from tests.auth.helpers import bearer
from tests.support.server import serve

_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")
_SKIP_METHODS = {"HEAD", "OPTIONS"}


def endpoints(app: FastAPI) -> Iterator[tuple[str, str, bool]]:
    """(method, path template, is_mount) for every route, mounts included."""
    for route in iter_route_contexts(app.routes):
        path = route.path
        assert path, route
        if isinstance(route.original_route, Mount):
            yield "MOUNT", path, True
            continue
        methods = route.methods or {"WEBSOCKET"}
        for method in sorted(set(methods) - _SKIP_METHODS):
            yield method, path, False


def concrete(path: str) -> str:
    # A UUID fits str, UUID and most ids; auth must fail before parameters are validated.
    return _PARAM.sub(lambda _: str(uuid.uuid4()), path)


async def _call(client: httpx.AsyncClient, method: str, path: str, **kw: object) -> httpx.Response:
    return await client.request(method, concrete(path), json={}, **kw)  # type: ignore[arg-type]


async def find_unprotected(client: httpx.AsyncClient, app: FastAPI) -> tuple[list[str], int]:
    """(problems, number of routes called)."""
    problems: list[str] = []
    checked = 0
    for method, path, is_mount in endpoints(app):
        if is_mount or method == "WEBSOCKET":
            # Mounts and websockets cannot use CurrentUser: they must be listed (and then
            # carry their own checks) or the walk fails.
            if not is_public("MOUNT" if is_mount else method, path):
                problems.append(f"{method} {path}: mount/websocket not on the public list")
            continue
        if is_public(method, path):
            continue
        checked += 1
        anonymous = await _call(client, method, path)
        if anonymous.status_code != 401 or _code(anonymous) != "UNAUTHORIZED":
            problems.append(f"{method} {path} -> {anonymous.status_code} anonymous")
            continue
        assert anonymous.headers.get("www-authenticate") == "Bearer"
        forged = await _call(client, method, path, headers=bearer("not-a-jwt"))
        if forged.status_code != 401 or _code(forged) != "AUTH_004":
            problems.append(f"{method} {path} -> {forged.status_code} with a forged token")
    return problems, checked


def _code(response: httpx.Response) -> str | None:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


async def test_every_route_is_protected_or_public(client: httpx.AsyncClient, app: FastAPI) -> None:
    problems, checked = await find_unprotected(client, app)
    assert not problems, "\n".join(problems)
    assert checked >= 15  # the walk really called the auth routes


async def test_walk_catches_an_unprotected_route(settings: Settings) -> None:
    app = create_app(settings)
    leaky = APIRouter(prefix="/api/leaky")

    @leaky.get("/{item_id}")
    async def leak(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    @leaky.post("/guarded")
    async def guarded(user: CurrentUser) -> dict[str, str]:
        return {"email": user.email}

    app.include_router(leaky)
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        problems, _ = await find_unprotected(http, app)
    assert problems == ["GET /api/leaky/{item_id} -> 422 anonymous"]


def test_public_list_has_no_stale_entries(app: FastAPI) -> None:
    declared = {f"{m} {p}" for m, p, _ in endpoints(app)}
    stale = PUBLIC_PATHS - declared
    assert not stale, f"public entries without a route: {sorted(stale)}"


async def test_public_routes_answer_anonymously(client: httpx.AsyncClient) -> None:
    for entry in sorted(PUBLIC_PATHS):
        method, path = entry.split(" ", 1)
        if method in {"MOUNT", "POST"} or "{" in path:
            continue
        response = await client.request(method, path)
        assert response.status_code == 200, entry


@pytest.mark.parametrize("path", ["/api/auth/me", "/api/admin/users", "/api/user/profile"])
async def test_wrong_scheme_is_anonymous(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
