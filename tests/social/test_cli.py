"""`allin social accounts` and `allin social refresh-tokens`, on the database the server uses."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from click.testing import Result
from typer.testing import CliRunner

from allin.cli import app as cli
from allin.core.config import Settings, get_settings
from tests.auth.helpers import SignedIn
from tests.social.flows import connect
from tests.tiktok.conftest import Sim


async def run(*args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, cli, ["social", *args])


@pytest.fixture
def same_settings(settings: Settings, sim: Sim, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI reads the environment: give it what the test server was built with."""
    secret = settings.secret_key.get_secret_value() if settings.secret_key else ""
    for name, value in {
        "ALLIN_DATA_DIR": str(settings.data_dir),
        "ALLIN_DATABASE_URL": settings.database_url,
        "ALLIN_SECRET_KEY": secret,
        "ALLIN_LOG_LEVEL": "WARNING",
        "TIKTOK_CLIENT_KEY": sim.config.client_key,
        "TIKTOK_CLIENT_SECRET": sim.config.client_secret,
        "ALLIN_TIKTOK_API_URL": sim.url,
        "ALLIN_TIKTOK_AUTH_URL": sim.url,
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def test_accounts_and_refresh_tokens(
    client: httpx.AsyncClient, alice: SignedIn, same_settings: None
) -> None:
    account = await connect(client, alice)
    listed = await run("accounts")
    assert listed.exit_code == 0, listed.output
    assert account["id"][:8] in listed.output and "tiktok" in listed.output
    assert "1 account(s)" in listed.output

    nothing = await run("refresh-tokens", "--expiring-within", "1h")
    assert nothing.exit_code == 0 and "refreshed 0" in nothing.output
    done = await run("refresh-tokens", "--expiring-within", "2d")
    assert done.exit_code == 0, done.output
    assert "refreshed 1, failed 0" in done.output

    bad = await run("refresh-tokens", "--expiring-within", "soon")
    assert bad.exit_code != 0
