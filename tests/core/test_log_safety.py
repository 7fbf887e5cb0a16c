"""An unhandled error costs milliseconds and leaks nothing, in both log formats: no frame
locals, a bounded traceback, and no secret (header, field, URL query, exception text)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import httpx
import pytest
from fastapi import Request

from allin.app import create_app
from allin.core.config import Settings
from allin.core.logging import MAX_TRACEBACK_CHARS, Category, get_logger
from allin.core.redact import redact_text
from tests.support.server import serve

API_KEY = "allin_k_" + "K3y" * 10
BEARER = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.s3cr3tSignatur3"
COOKIE = "refresh-c00kie-value-123456"
PASSWORD = "Violet-harbour-lantern-2026"
QUERY_TOKEN = "EAAGm0PX4ZCpsBAQueryToken"
CLIENT_SECRET = "client-s3cret-in-an-error-message"
OAUTH_CODE = "oauth-c0de*!-from-the-callback"
REFRESH = "rft.refresh-token-in-a-field"
SECRETS = (API_KEY, BEARER, COOKIE, PASSWORD, QUERY_TOKEN, CLIENT_SECRET, OAUTH_CODE, REFRESH)


@pytest.mark.parametrize("log_format", ["console", "json"])
async def test_unhandled_error_is_fast_bounded_and_redacted(
    make_settings: Callable[..., Settings], capfd: pytest.CaptureFixture[str], log_format: str
) -> None:
    app = create_app(make_settings(log_format=log_format, log_level="INFO"))
    log = get_logger(Category.CORE)

    def deep(depth: int, request: Request) -> None:
        padding = "x" * 50_000  # a big local: must not be printed
        password = PASSWORD
        if depth:
            deep(depth - 1, request)
        raise RuntimeError(
            f"upstream refused https://graph.facebook.com/oauth?client_secret={CLIENT_SECRET}"
            f" {len(padding)} {len(password)}"
        )

    async def boom(request: Request) -> None:
        log.info(
            "about to fail",
            url=f"https://graph.facebook.com/v19.0/me?fields=id&access_token={QUERY_TOKEN}",
            password=PASSWORD,
            form={"code": OAUTH_CODE, "refresh_token": REFRESH},
            headers=[("x-api-key", API_KEY), ("accept", "*/*")],
        )
        logging.getLogger("httpx").warning(
            "HTTP Request: GET https://graph.facebook.com/me?access_token=%s", QUERY_TOKEN
        )
        deep(60, request)

    app.add_api_route("/boom", boom, methods=["GET"])
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        # FastAPI builds a route's validators at its first request: pay that once.
        assert (await client.get("/boom")).status_code == 500
        capfd.readouterr()
        started = time.perf_counter()
        response = await client.get(
            f"/boom?access_token={QUERY_TOKEN}&code={OAUTH_CODE}",
            headers={
                "x-api-key": API_KEY,
                "authorization": f"Bearer {BEARER}",
                "cookie": f"allin_refresh={COOKIE}",
            },
        )
        elapsed = time.perf_counter() - started
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "INTERNAL_ERROR"
        assert elapsed < 0.2, elapsed
        health = await client.get("/api/health/live")
        assert health.status_code == 200
    captured = capfd.readouterr()
    logged = captured.err + captured.out
    assert "unhandled error" in logged and "RuntimeError" in logged
    assert "about to fail" in logged and "graph.facebook.com" in logged
    for secret in SECRETS:
        assert secret not in logged, secret
    assert "x" * 1000 not in logged  # no locals
    assert len(logged) < MAX_TRACEBACK_CHARS + 8_000


def test_redact_text_examples() -> None:
    assert redact_text("GET /cb?code=abc&state=s") == "GET /cb?code=[REDACTED]&state=s"
    assert redact_text("Authorization: Bearer abcdefghij") == "Authorization: [REDACTED]"
    assert "abcdefghij" not in redact_text("sent bearer abcdefghij upstream")
    assert redact_text("a=1&b=2") == "a=1&b=2"
