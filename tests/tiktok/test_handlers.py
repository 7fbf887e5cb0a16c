"""A TikTokError raised in a route becomes the standard error envelope."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from allin.core.handlers import EXCEPTION_HANDLERS
from allin.tiktok.errors import TikTokError
from allin.tiktok.handlers import handle_tiktok_error


async def test_envelope() -> None:
    app = FastAPI()
    for exc_class, handler in EXCEPTION_HANDLERS.items():
        app.add_exception_handler(exc_class, handler)
    app.add_exception_handler(TikTokError, handle_tiktok_error)

    @app.get("/limited")
    async def limited() -> None:
        raise TikTokError("rate_limit_exceeded", status_code=429, retry_after=12, log_id="L")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/limited")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "12"
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "TIKTOK_RATE_LIMIT_ERROR"
    assert body["error"]["details"]["tiktok_code"] == "rate_limit_exceeded"
    assert body["error"]["details"]["log_id"] == "L"
