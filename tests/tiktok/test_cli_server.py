"""`allin tiktok analytics | rotate-keys | breaker` against a real database, the simulator and a
running server. The CLI runs in a worker thread (it owns its event loop) while this test's loop
keeps serving the simulator and the app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from click.testing import Result
from fastapi import FastAPI
from sqlalchemy import func, select
from typer.testing import CliRunner

from allin.auth.models import Role
from allin.cli import app as cli
from allin.core.clock import utcnow
from allin.core.config import Settings, get_settings
from allin.core.crypto import TokenCipher, cipher_from_settings, generate_key, parse_keys
from allin.db import migrate
from allin.db.engine import create_engine, create_session_factory
from allin.simulator.open_api.state import SimVideo
from allin.tiktok.client import TikTokClient, TikTokConfig
from allin.tiktok.filestore import FileTokenStore
from allin.tiktok.models import TokenSet, UserInfo
from allin.tiktok.service import TikTokService
from allin.tiktok.stores import DbTokenStore, Sessions
from allin.tiktok.tables import TikTokAnalyticsSnapshot
from allin.tiktok.tokens import TokenManager
from tests.auth.helpers import signed_in
from tests.support.server import free_port
from tests.tiktok.conftest import Sim, connect
from tests.tiktok.routes import new_user


async def run(*args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, cli, ["tiktok", *args])


@pytest.fixture
def cli_env(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[pytest.MonkeyPatch]:
    for name, value in {
        "ALLIN_DATA_DIR": str(tmp_path / "var"),
        "ALLIN_DATABASE_URL": database_url,
        "ALLIN_SECRET_KEY": "cli-server-test-secret",
        "ALLIN_LOG_FORMAT": "json",
        "ALLIN_LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ALLIN_API_KEY", raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def settings_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture
async def sessions(cli_env: pytest.MonkeyPatch) -> AsyncIterator[Sessions]:
    url = get_settings().effective_database_url
    await asyncio.to_thread(migrate.upgrade, url, "head")
    engine = create_engine(url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def connect_through_server(service: TikTokService, sessions: Sessions) -> str:
    user = await new_user(sessions)
    url = await service.start_connect(user)
    async with httpx.AsyncClient() as browser:
        location = (await browser.get(url)).headers["location"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    return (await service.finish_connect(user, query)).account_id


def sim_env(sim: Sim) -> dict[str, str]:
    return {
        "ALLIN_TIKTOK_CLIENT_KEY": sim.config.client_key,
        "ALLIN_TIKTOK_CLIENT_SECRET": sim.config.client_secret,
        "ALLIN_TIKTOK_API_URL": sim.url,
        "ALLIN_TIKTOK_AUTH_URL": sim.url,
    }


async def test_analytics_command(
    cli_env: pytest.MonkeyPatch, sessions: Sessions, sim: Sim, tmp_path: Path
) -> None:
    settings = settings_with(cli_env, **sim_env(sim))
    creator = sim.world.users[sim.world.current_user]
    creator.follower_count = 3
    creator.videos = [SimVideo(7_300_000_000_000_000_001, 1_700_000_000, "clip", view_count=400,
                               like_count=30, comment_count=6, share_count=4)]  # fmt: skip
    service = TikTokService.with_database(settings, sessions)
    try:
        account_id = await connect_through_server(service, sessions)
    finally:
        await service.aclose()

    refreshed = await run("analytics", "--refresh")
    assert refreshed.exit_code == 0, refreshed.output
    assert "views 400" in refreshed.output and "engagement 10.00%" in refreshed.output
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(TikTokAnalyticsSnapshot)) == 1
    history = await run("analytics", "--account", creator.open_id, "--days", "7")
    assert history.exit_code == 0, history.output
    assert "Sim Creator" in history.output and "400" in history.output
    by_id = await run("analytics", "--account", account_id)
    assert by_id.exit_code == 0 and account_id in by_id.output
    missing = await run("analytics", "--account", "nobody")
    assert missing.exit_code == 1 and "No connected TikTok accounts match" in missing.output

    # The desktop login's own account (`allin tiktok login`), live.
    async with TikTokClient(TikTokConfig.from_settings(settings)) as client:
        grant = await connect(client)
        store = FileTokenStore(settings.data_dir / "tiktok-cli-tokens.json")
        await TokenManager(store, cipher_from_settings(settings), client.refresh).store_tokens(
            "default", grant
        )
    local = await run("analytics", "--local", "default")
    assert local.exit_code == 0, local.output
    assert "views 400" in local.output and "clip" in local.output


async def test_rotate_keys_command(cli_env: pytest.MonkeyPatch, sessions: Sessions) -> None:
    old_key, new_key = f"k1:{generate_key()}", f"k2:{generate_key()}"
    settings = settings_with(cli_env, ALLIN_TOKEN_ENCRYPTION_KEYS=old_key)
    config = TikTokConfig(client_key="ck", client_secret="cs", redirect_uri="http://x/cb")
    service = TikTokService.with_database(settings, sessions)
    grant = TokenSet(
        access_token="act.secret",
        expires_in=86_400,
        refresh_token="rft.secret",
        open_id="open-7",
        issued_at=utcnow(),
    )
    account = await service.accounts.attach(await new_user(sessions), "open-7", (), UserInfo())
    await service.tokens.store_tokens(account, grant)
    await service.aclose()
    async with TikTokClient(config) as client:
        file_store = FileTokenStore(settings.data_dir / "tiktok-cli-tokens.json")
        await TokenManager(file_store, cipher_from_settings(settings), client.refresh).store_tokens(
            "default", grant
        )

    settings_with(cli_env, ALLIN_TOKEN_ENCRYPTION_KEYS=f"{new_key},{old_key}")
    rotated = await run("rotate-keys")
    assert rotated.exit_code == 0, rotated.output
    assert "k2" in rotated.output and "1 connected account(s)" in rotated.output
    assert "1 CLI login(s)" in rotated.output
    only_new = TokenCipher(parse_keys(new_key))
    sealed = await DbTokenStore(sessions).load(account)
    assert sealed is not None and only_new.key_id_of(sealed.access_token_enc) == "k2"
    assert sealed.unseal(only_new).refresh_token == "rft.secret"
    local = await file_store.load("default")
    assert local is not None and local.unseal(only_new).access_token == "act.secret"
    again = await run("rotate-keys")
    assert "0 connected account(s)" in again.output

    settings_with(cli_env, ALLIN_TOKEN_ENCRYPTION_KEYS=f"k3:{generate_key()}")
    lost = await run("rotate-keys")
    assert lost.exit_code == 1 and "Cannot decrypt" in lost.output


async def test_breaker_command(
    cli_env: pytest.MonkeyPatch, client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await signed_in(client, app, role=Role.ADMIN)
    user = await signed_in(client, app)

    async def api_key(headers: dict[str, str]) -> str:
        body = {"name": "cli", "scopes": ["read", "account"]}  # the reset is a change
        created = await client.post("/api/auth/api-keys", headers=headers, json=body)
        assert created.status_code == 201, created.text
        key: str = created.json()["data"]["key"]
        return key

    url = str(client.base_url)
    key = await api_key(admin.headers)
    shown = await run("breaker", "--url", url, "--api-key", key)
    assert shown.exit_code == 0, shown.output
    assert "tiktok-api" in shown.output and "CLOSED" in shown.output
    reset = await run("breaker", "--reset", "--url", url, "--api-key", key)
    assert reset.exit_code == 0 and "tiktok-upload" in reset.output

    assert (await run("breaker", "--url", url)).exit_code == 2  # no key
    refused = await run("breaker", "--url", url, "--api-key", await api_key(user.headers))
    assert refused.exit_code == 1 and "403" in refused.output
    nobody = await run("breaker", "--url", f"http://127.0.0.1:{free_port()}", "--api-key", key)
    assert nobody.exit_code == 1 and "Cannot reach" in nobody.output
