"""Helpers for the HTTP-level tests: the app wired to the simulator, connecting an account the
way a browser does, and waiting for asynchronous outcomes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.auth.models import User
from allin.core.domain import app_state
from allin.tiktok.service import TikTokService
from tests.auth.helpers import SignedIn
from tests.tiktok.conftest import Sim

PREFIX = "/api/integrations/tiktok"


async def new_user(sessions: async_sessionmaker[AsyncSession]) -> str:
    """A user row, straight into the database (for store-level tests without the app)."""
    async with sessions() as db:
        email = f"{uuid.uuid4().hex[:10]}@example.com"
        user = User(email=email, password_hash="x", display_name="t")
        db.add(user)
        await db.commit()
        return str(user.id)


def sim_settings(sim: Sim, **overrides: Any) -> dict[str, Any]:
    """Settings that point the app at the simulator, with fast retries and polls."""
    values: dict[str, Any] = {
        "tiktok_client_key": sim.config.client_key,
        "tiktok_client_secret": sim.config.client_secret,
        "tiktok_api_url": sim.url,
        "tiktok_auth_url": sim.url,
        "tiktok_retry_attempts": 3,
        "tiktok_retry_wait_initial": 0.01,
        "tiktok_retry_wait_max": 0.02,
        "tiktok_retry_wait_jitter": 0.01,
        "tiktok_retry_after_max": 3,
        "tiktok_status_poll_initial": 0.02,
        "tiktok_status_poll_max": 0.05,
        "tiktok_status_poll_timeout": 10,
        "rate_limit_enabled": False,
    }
    values.update(overrides)
    return values


def service_of(app: FastAPI) -> TikTokService:
    return app_state(app).get(TikTokService)


def listen_for_webhooks(client: httpx.AsyncClient, sim: Sim) -> None:
    sim.config.webhook_url = f"{client.base_url}{PREFIX}/webhook"


async def authorize(client: httpx.AsyncClient, user: SignedIn) -> str:
    """GET /connect, then follow TikTok's authorize URL; the redirect's query string."""
    started = await client.get(f"{PREFIX}/connect", headers=user.headers)
    assert started.status_code == 200, started.text
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(started.json()["data"]["authorization_url"])
    assert consent.status_code == 302, consent.text
    return urlsplit(consent.headers["location"]).query


async def connect_account(
    client: httpx.AsyncClient, user: SignedIn, sim: Sim, open_id: str | None = None
) -> dict[str, Any]:
    """The whole browser round trip; the callback is called anonymously, as TikTok's redirect."""
    if open_id is not None:
        sim.world.login_as(open_id)
    query = await authorize(client, user)
    response = await client.get(f"{PREFIX}/callback?{query}")
    assert response.status_code == 200, response.text
    account: dict[str, Any] = response.json()["data"]
    return account


def video_form(path: Path, **fields: str) -> dict[str, Any]:
    return {"files": {"file": (path.name, path.read_bytes(), "video/mp4")}, "data": fields}


async def post_video(
    client: httpx.AsyncClient, account_id: str, user: SignedIn, path: Path, **fields: str
) -> httpx.Response:
    """POST .../publish with the file as multipart form data."""
    return await client.post(
        f"{PREFIX}/{account_id}/publish", headers=user.headers, **video_form(path, **fields)
    )


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.03)


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert body["success"] is False and body["data"] is None, body
    code: str = body["error"]["code"]
    return code
