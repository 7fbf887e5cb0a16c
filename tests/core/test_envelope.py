"""Every response a client sees is an envelope with a stable code (issue 2, 'Done when')."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from allin.app import create_app
from allin.core.config import Settings
from allin.core.errors import ConflictError
from allin.core.schemas import Envelope, PageMeta, StrictModel, ok
from tests.support.server import serve


class Item(StrictModel):
    name: str
    quantity: int


def _test_router() -> APIRouter:
    router = APIRouter(prefix="/api/_test")

    @router.post("/items")
    async def create_item(item: Item) -> Envelope[Item]:
        return ok(item, PageMeta(page=1, limit=10, total=1))

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail")

    @router.get("/conflict")
    async def conflict() -> None:
        raise ConflictError("Already exists", details={"field": "name"})

    return router


@pytest.fixture
async def http(make_settings: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(make_settings(max_body_bytes=2048))
    app.include_router(_test_router())
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        yield client


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False
    assert body["data"] is None
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


async def test_success_is_enveloped_with_meta(http: httpx.AsyncClient) -> None:
    response = await http.post("/api/_test/items", json={"name": "rose", "quantity": 3})
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "data": {"name": "rose", "quantity": 3},
        "error": None,
        "meta": {"page": 1, "limit": 10, "total": 1, "next_cursor": None},
    }


async def test_validation_error_lists_fields(http: httpx.AsyncClient) -> None:
    response = await http.post("/api/_test/items", json={"name": "rose", "quantity": "many"})
    error = assert_error(response, 422, "VALIDATION_ERROR")
    details = error["details"]
    assert isinstance(details, list)
    assert details[0]["field"] == "quantity"
    assert details[0]["location"] == "body"


async def test_unknown_field_is_rejected(http: httpx.AsyncClient) -> None:
    response = await http.post("/api/_test/items", json={"name": "a", "quantity": 1, "x": 1})
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert any(d["field"] == "x" and d["type"] == "extra_forbidden" for d in error["details"])  # type: ignore[union-attr]


async def test_malformed_json(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/api/_test/items", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "MALFORMED_JSON")


async def test_wrong_content_type(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/api/_test/items", content=b"name=rose", headers={"content-type": "text/plain"}
    )
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


async def test_unknown_route_is_404(http: httpx.AsyncClient) -> None:
    assert_error(await http.get("/api/does-not-exist"), 404, "NOT_FOUND")


async def test_wrong_method_is_405_with_allow(http: httpx.AsyncClient) -> None:
    response = await http.delete("/api/_test/items")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in response.headers["allow"]


async def test_oversized_body_by_content_length(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/api/_test/items", content=b"x" * 4096, headers={"content-type": "application/json"}
    )
    error = assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert error["details"] == {"max_bytes": 2048}


async def test_oversized_streamed_body(http: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b"x" * 1024
            await asyncio.sleep(0)

    response = await http.post(
        "/api/_test/items", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


async def test_unexpected_exception_is_an_enveloped_500(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/_test/boom", headers={"X-Correlation-ID": "trace-500"})
    error = assert_error(response, 500, "INTERNAL_ERROR")
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text
    assert error["details"] is None
    assert response.headers["x-correlation-id"] == "trace-500"


async def test_app_error_keeps_its_code_and_details(http: httpx.AsyncClient) -> None:
    error = assert_error(await http.get("/api/_test/conflict"), 409, "CONFLICT")
    assert error["details"] == {"field": "name"}


async def test_405_allow_lists_every_route_on_the_path(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings())
    router = APIRouter()

    @router.get("/api/_test/multi")
    async def read() -> dict[str, bool]:
        return {"ok": True}

    @router.patch("/api/_test/multi")
    async def update() -> dict[str, bool]:
        return {"ok": True}

    app.include_router(router)
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        response = await client.delete("/api/_test/multi")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert set(response.headers["allow"].split(", ")) == {"GET", "PATCH"}
