"""What the publishing queue uses: a fresh token and the provider by account id, and marking an
account for reconnect; refreshes are single-flight."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from allin.app import create_app
from allin.core.clock import utcnow
from allin.core.config import Settings
from allin.core.domain import app_state
from allin.social.errors import ReconnectRequiredError
from allin.social.providers.base import ErrorKind, Platform, SocialProviderError, TokenSet
from allin.social.service import SocialAccountsService
from tests.auth.helpers import SignedIn, signed_in
from tests.social.flows import connect
from tests.support.server import serve
from tests.tiktok.conftest import MovableClock, Sim


def _service(app: FastAPI) -> SocialAccountsService:
    return app_state(app).get(SocialAccountsService)


async def test_credentials_refresh_a_nearly_expired_token_first(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn, sim: Sim, moved: MovableClock
) -> None:
    account = await connect(client, alice)
    service = _service(app)
    credentials, provider = await service.credentials(uuid.UUID(account["id"]))
    assert provider.platform is Platform.TIKTOK
    assert credentials.platform_user_id == account["platform_user_id"]
    assert sim.world.access[credentials.access_token].valid()

    moved.advance(24 * 3600 - 60)  # a minute left: renewed before use
    renewed, _ = await service.credentials(uuid.UUID(account["id"]))
    assert renewed.access_token != credentials.access_token


async def test_an_unwell_platform_still_lets_a_valid_token_be_used(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn, sim: Sim, moved: MovableClock
) -> None:
    account = await connect(client, alice)
    service = _service(app)
    before, _ = await service.credentials(uuid.UUID(account["id"]))
    moved.advance(24 * 3600 - 60)
    sim.world.inject("token", 503, None)
    during, _ = await service.credentials(uuid.UUID(account["id"]))
    assert during.access_token == before.access_token
    row = await service.get_account(uuid.UUID(account["id"]))
    assert row.status == "ACTIVE" and row.last_error


async def test_mark_needs_reconnect(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn
) -> None:
    account = await connect(client, alice)
    service = _service(app)
    refused = SocialProviderError(
        kind=ErrorKind.AUTH,
        platform=Platform.TIKTOK,
        platform_code="access_token_invalid",
        platform_message="The access token is invalid or not found in the request.",
    )
    await service.mark_needs_reconnect(uuid.UUID(account["id"]), refused)
    with pytest.raises(ReconnectRequiredError) as caught:
        await service.credentials(uuid.UUID(account["id"]))
    assert caught.value.code == "SOCIAL_011"
    shown = await client.get(f"/api/social/accounts/{account['id']}", headers=alice.headers)
    data = shown.json()["data"]
    assert data["status"] == "REVOKED" and data["reconnect_required"] is True
    assert "invalid" in data["last_error"]


async def test_concurrent_refreshes_share_one_platform_call(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn, sim: Sim
) -> None:
    account = await connect(client, alice)
    service = _service(app)
    before = sim.world.calls.get("token", 0)
    rows = await asyncio.gather(
        *(service.refresh_account(uuid.UUID(account["id"])) for _ in range(5))
    )
    assert sim.world.calls.get("token", 0) - before == 1
    assert len({row.access_token_enc for row in rows}) == 1


async def test_an_empty_refresh_token_never_replaces_a_good_one(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn
) -> None:
    account = await connect(client, alice)
    service = _service(app)
    row = await service.get_account(uuid.UUID(account["id"]))
    good = service.token_set(row).refresh_token
    assert good
    service._put_tokens(row, TokenSet(access_token="act.new"), utcnow(), fresh_grant=False)
    kept = service.token_set(row)
    assert kept.access_token == "act.new" and kept.refresh_token == good


async def test_the_background_job_refreshes_before_expiry(
    social_settings: Callable[..., Settings], port: int, sim: Sim, moved: MovableClock
) -> None:
    app = create_app(social_settings(social_refresh_interval=timedelta(milliseconds=100)))
    async with serve(app, port) as base, httpx.AsyncClient(base_url=base) as client:
        user = await signed_in(client, app)
        account = await connect(client, user)
        service = _service(app)
        before = await service.get_account(uuid.UUID(account["id"]))
        moved.advance(24 * 3600 - 300)  # five minutes left, inside the ten-minute margin
        for _ in range(100):
            row = await service.get_account(uuid.UUID(account["id"]))
            if row.token_expires_at != before.token_expires_at:
                break
            await asyncio.sleep(0.05)
        assert row.token_expires_at and before.token_expires_at
        assert row.token_expires_at > before.token_expires_at and row.status == "ACTIVE"
