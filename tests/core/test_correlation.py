"""Correlation IDs: accepted or generated, echoed, bound into every log line and into
background tasks started by the request."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from hypothesis import given
from hypothesis import strategies as st

from allin.app import create_app
from allin.core.config import Settings
from allin.core.logging import Category, clean_correlation_id, get_logger
from allin.core.tasks import run_in_background
from tests.support.server import serve

done = asyncio.Event()


def _router() -> APIRouter:
    router = APIRouter(prefix="/api/_test")
    log = get_logger(Category.QUEUE)

    async def background_job() -> None:
        await asyncio.sleep(0.01)
        log.info("background job ran")
        done.set()

    @router.post("/job")
    async def start_job() -> dict[str, bool]:
        log.info("handler ran")
        run_in_background(background_job(), name="test-job")
        return {"started": True}

    @router.get("/boom")
    async def boom() -> None:
        raise ValueError("kaboom")

    return router


@pytest.fixture
async def logged(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[tuple[httpx.AsyncClient, io.StringIO]]:
    app = create_app(make_settings(log_format="json"))
    app.include_router(_router())
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.getLogger().handlers[0].formatter)
    logging.getLogger().addHandler(handler)
    try:
        async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url) as client:
            yield client, stream
    finally:
        logging.getLogger().removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


async def test_given_id_is_echoed(logged: tuple[httpx.AsyncClient, io.StringIO]) -> None:
    client, _ = logged
    response = await client.get("/api/health", headers={"X-Correlation-ID": "req-42"})
    assert response.headers["x-correlation-id"] == "req-42"


async def test_missing_or_unsafe_id_is_generated(
    logged: tuple[httpx.AsyncClient, io.StringIO],
) -> None:
    client, _ = logged
    first = (await client.get("/api/health")).headers["x-correlation-id"]
    second = (await client.get("/api/health")).headers["x-correlation-id"]
    assert len(first) == 32 and first != second
    unsafe = (await client.get("/api/health", headers={"X-Correlation-ID": "a" * 500})).headers
    assert len(unsafe["x-correlation-id"]) == 32


async def test_id_reaches_handler_and_background_logs(
    logged: tuple[httpx.AsyncClient, io.StringIO],
) -> None:
    client, stream = logged
    done.clear()
    response = await client.post("/api/_test/job", headers={"X-Correlation-ID": "job-7"})
    assert response.status_code == 200
    await asyncio.wait_for(done.wait(), 5)
    records = lines(stream)
    handler = next(r for r in records if r["event"] == "handler ran")
    job = next(r for r in records if r["event"] == "background job ran")
    access = next(r for r in records if r["event"] == "request" and r["path"] == "/api/_test/job")
    assert handler["correlation_id"] == job["correlation_id"] == access["correlation_id"] == "job-7"
    assert job["category"] == "QUEUE"
    assert access["category"] == "HTTP"


async def test_500_is_logged_with_correlation_id(
    logged: tuple[httpx.AsyncClient, io.StringIO],
) -> None:
    client, stream = logged
    response = await client.get("/api/_test/boom", headers={"X-Correlation-ID": "err-1"})
    assert response.status_code == 500
    error = next(r for r in lines(stream) if r["event"] == "unhandled error")
    assert error["correlation_id"] == "err-1"
    assert "kaboom" in error["exception"]
    assert error["level"] == "error"


@given(st.text(max_size=300))
def test_clean_correlation_id_only_passes_safe_values(value: str) -> None:
    cleaned = clean_correlation_id(value)
    assert cleaned.isascii() and cleaned.isprintable() and 0 < len(cleaned) <= 128
    assert cleaned == value or len(cleaned) == 32
