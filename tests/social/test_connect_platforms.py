"""X, LinkedIn, Facebook Pages and Instagram connected through the social API, each against its
simulator over real loopback HTTP: connect, refresh (or why not), expiry, and disconnect."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import inspect, text

from allin.core.config import Settings
from allin.core.domain import app_state
from allin.simulator.social.common import ManualClock
from allin.simulator.social.serve import RunningSocial, SocialConfigs, run_social_simulators
from allin.social.providers.base import ErrorKind, Platform, SocialProviderError
from allin.social.service import SocialAccountsService
from tests.auth.helpers import SignedIn
from tests.social.flows import API, code_of, consent
from tests.tiktok.conftest import MovableClock

CALLBACK = "http://127.0.0.1:*/api/social/accounts/{}/callback"


@pytest.fixture
async def socials() -> AsyncIterator[RunningSocial]:
    configs = SocialConfigs()
    configs.x.redirect_uris.append(CALLBACK.format("x"))
    configs.linkedin.redirect_uris.append(CALLBACK.format("linkedin"))
    configs.meta.redirect_uris.extend([CALLBACK.format("facebook"), CALLBACK.format("instagram")])
    configs.meta.fetch_urls = False
    ports = {"x": 0, "linkedin": 0, "meta": 0}
    async with run_social_simulators(ports=ports, configs=configs, handle_signals=False) as run:
        yield run


@pytest.fixture
def settings(social_settings: Callable[..., Settings], socials: RunningSocial) -> Settings:
    x, linkedin, meta = (socials.apps[n].state.sim.config for n in ("x", "linkedin", "meta"))
    return social_settings(
        x_client_id=x.client_id,
        x_client_secret=x.client_secret,
        x_api_url=socials.urls["x"],
        x_auth_url=socials.urls["x"],
        linkedin_client_id=linkedin.client_id,
        linkedin_client_secret=linkedin.client_secret,
        linkedin_api_url=socials.urls["linkedin"],
        linkedin_auth_url=socials.urls["linkedin"],
        meta_app_id=meta.app_id,
        meta_app_secret=meta.app_secret,
        meta_graph_url=socials.urls["meta"],
        meta_graph_video_url=socials.urls["meta"],
        meta_auth_url=socials.urls["meta"],
    )


def _sim_clock(socials: RunningSocial, name: str) -> ManualClock:
    clock = socials.apps[name].state.sim.config.clock
    assert isinstance(clock, ManualClock)
    return clock


async def _connect(
    client: httpx.AsyncClient, user: SignedIn, platform: str
) -> list[dict[str, Any]]:
    query = await consent(client, user, platform)
    response = await client.get(f"{API}/accounts/{platform}/callback?{query}")
    assert response.status_code == 200, response.text
    accounts: list[dict[str, Any]] = response.json()["data"]
    assert accounts and all(a["platform"] == platform for a in accounts)
    assert all(a["status"] == "ACTIVE" for a in accounts)
    return accounts


async def _platform_refuses(app: FastAPI, account_id: str) -> bool:
    """Whether the platform now refuses the stored token (who-am-I answers AUTH)."""
    service = app_state(app).get(SocialAccountsService)
    row = await service.get_account(uuid.UUID(account_id))
    provider = service.registry.get(Platform(row.platform))
    try:
        await provider.identities(service.token_set(row))
    except SocialProviderError as error:
        return error.kind is ErrorKind.AUTH
    return False


async def test_every_platform_is_configured(client: httpx.AsyncClient, alice: SignedIn) -> None:
    listed = (await client.get(f"{API}/providers", headers=alice.headers)).json()["data"]
    assert {p["platform"]: p["status"] for p in listed} == dict.fromkeys(
        ("tiktok", "x", "linkedin", "facebook", "instagram"), "configured"
    )


async def test_x_connect_refresh_rotate_expire_revoke(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: SignedIn,
    socials: RunningSocial,
    moved: MovableClock,
) -> None:
    (account,) = await _connect(client, alice, "x")
    assert account["username"] and account["can_refresh"] is True
    path = f"{API}/accounts/{account['id']}"
    refreshed = await client.put(f"{path}/refresh", headers=alice.headers)
    assert refreshed.status_code == 200, refreshed.text

    # Two hours later the access token is dead at X; the bulk refresh renews it.
    _sim_clock(socials, "x").advance(3 * 3600)
    moved.advance(3 * 3600)
    assert await _platform_refuses(app, account["id"])
    service = app_state(app).get(SocialAccountsService)
    report = await service.refresh_expiring(timedelta(hours=1))
    assert [str(a) for a in report.refreshed] == [account["id"]]
    assert not await _platform_refuses(app, account["id"])

    deleted = await client.delete(path, headers=alice.headers)
    assert deleted.json()["data"]["revoked"] is True
    assert (await client.get(path, headers=alice.headers)).status_code == 404


async def test_linkedin_cannot_refresh_and_expires_on_the_day(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn, moved: MovableClock
) -> None:
    (account,) = await _connect(client, alice, "linkedin")
    assert account["can_refresh"] is False
    assert 59 * 86400 < account["expires_in_seconds"] <= 60 * 86400
    path = f"{API}/accounts/{account['id']}"
    refused = await client.put(f"{path}/refresh", headers=alice.headers)
    assert refused.status_code == 409 and code_of(refused) == "SOCIAL_011"
    assert (await client.get(path, headers=alice.headers)).json()["data"]["status"] == "ACTIVE"

    service = app_state(app).get(SocialAccountsService)
    sent: list[Any] = []

    class Outbox:
        async def send(self, message: Any, *, link: str | None = None) -> None:
            sent.append((message, link))

    service.mailer = Outbox()
    moved.advance(55 * 86400)  # five days left: one reminder, once
    assert (await service.remind_and_expire()).reminded == 1
    assert (await service.remind_and_expire()).reminded == 0
    (message, link) = sent[0]
    assert message["To"] == alice.email and "linkedin" in message["Subject"].lower()
    assert link and link.endswith("/api/social/accounts/linkedin/connect")

    moved.advance(6 * 86400)  # the day has come
    assert (await service.remind_and_expire()).expired == 1
    moved.advance(-61 * 86400)  # (back to when alice's login is valid, to look)
    shown = (await client.get(path, headers=alice.headers)).json()["data"]
    assert shown["status"] == "EXPIRED" and shown["reconnect_required"] is True
    assert "reconnect" in shown["status_reason"]

    again = await _connect(client, alice, "linkedin")  # one click: back to ACTIVE, same row
    assert again[0]["id"] == account["id"]


async def test_facebook_pages_and_instagram_accounts(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn
) -> None:
    pages = await _connect(client, alice, "facebook")
    assert pages[0]["display_name"]
    page_path = f"{API}/accounts/{pages[0]['id']}"
    kept = await client.put(f"{page_path}/refresh", headers=alice.headers)
    assert kept.status_code == 200 and kept.json()["data"]["status"] == "ACTIVE"

    instagram = await _connect(client, alice, "instagram")
    assert instagram[0]["username"]
    listed = (await client.get(f"{API}/accounts", headers=alice.headers)).json()["data"]
    assert {a["platform"] for a in listed} == {"facebook", "instagram"}

    again = await _connect(client, alice, "facebook")
    assert [a["id"] for a in again] == [a["id"] for a in pages]  # one row per Page

    deleted = await client.delete(page_path, headers=alice.headers)
    assert deleted.status_code == 200
    assert (await client.get(page_path, headers=alice.headers)).status_code == 404


async def test_after_connecting_all_five_no_secret_is_in_the_log_or_the_database(
    client: httpx.AsyncClient,
    app: FastAPI,
    alice: SignedIn,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    codes = []
    for platform in ("tiktok", "x", "linkedin", "facebook", "instagram"):
        query = await consent(client, alice, platform)
        codes.append(parse_qs(query)["code"][0])
        response = await client.get(f"{API}/accounts/{platform}/callback?{query}")
        assert response.status_code == 200, response.text
    service = app_state(app).get(SocialAccountsService)
    secrets = set(codes)
    for account in (await client.get(f"{API}/accounts", headers=alice.headers)).json()["data"]:
        tokens = service.token_set(await service.get_account(uuid.UUID(account["id"])))
        secrets |= {tokens.access_token, *([tokens.refresh_token] if tokens.refresh_token else [])}
    for secret in (
        settings.x_client_secret,
        settings.linkedin_client_secret,
        settings.meta_app_secret,
        settings.tiktok_client_secret,
    ):
        assert secret is not None
        secrets.add(secret.get_secret_value())
    assert len(secrets) >= 15

    ours = str(client.base_url)
    # The test's own HTTP clients play the browser; their lines about our callback are not ours.
    lines = [
        r.getMessage()
        for r in caplog.records
        if not (r.name.startswith(("httpx", "httpcore")) and ours in r.getMessage())
    ]
    assert not [s for s in secrets if any(s in line for line in lines)]

    async with app_state(app).engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        dump = []
        for table in tables:
            dump.extend(
                str(tuple(row)) for row in await conn.execute(text(f'SELECT * FROM "{table}"'))
            )
    everything = "\n".join(dump)
    assert all(p in everything for p in ("tiktok", "x", "linkedin", "facebook", "instagram"))
    assert not [s for s in secrets if s in everything]
