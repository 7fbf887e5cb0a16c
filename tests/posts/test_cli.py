"""`allin posts`, `allin queue status` against a real database."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from click.testing import Result
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from allin.cli import app
from allin.core.clock import clock
from allin.core.config import get_settings
from allin.posts import cli as posts_cli
from allin.posts import windows
from allin.posts.models import PostTarget, TargetStatus
from allin.social.providers.base import LimitScope, Platform
from tests.posts.conftest import add_due_targets


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("ALLIN_DATABASE_URL", database_url)
    monkeypatch.setenv("ALLIN_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(posts_cli.console, "width", 250)  # whole ids in the table
    get_settings.cache_clear()


async def test_list_show_retry_and_queue_status(
    cli_env: None, sessions: async_sessionmaker[AsyncSession], owner_id: uuid.UUID
) -> None:
    (target_id,) = await add_due_targets(sessions, owner_id, 1, clock.now() - timedelta(minutes=5))
    async with sessions() as session, session.begin():
        target = await session.get(PostTarget, target_id)
        assert target is not None
        target.status, target.last_error_code = TargetStatus.FAILED, "CONTENT_003"
        target.last_error = "Duplicate post"
        post_id = target.post_id
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args))

    listed = await asyncio.to_thread(invoke, "posts", "list", "--status", "FAILED")
    assert listed.exit_code == 0, listed.output
    assert str(post_id)[:8] in listed.output and "CONTENT_003" in listed.output
    shown = await asyncio.to_thread(invoke, "posts", "show", str(post_id))
    assert "Duplicate post" in shown.output
    assert (await asyncio.to_thread(invoke, "posts", "retry", str(post_id))).exit_code == 0
    async with sessions() as session:
        again = await session.get(PostTarget, target_id)
        assert again is not None and again.status == TargetStatus.SCHEDULED
    now = clock.now()
    async with sessions() as session, session.begin():
        await windows.open_window(
            session, Platform.X, uuid.uuid4(), LimitScope.APP, now + timedelta(hours=1),
            "Too Many Requests", now,
        )  # fmt: skip
    status = await asyncio.to_thread(invoke, "queue", "status")
    assert status.exit_code == 0 and "SCHEDULED" in status.output and "due now 1" in status.output
    until = f"{now + timedelta(hours=1):%Y-%m-%d %H:%M:%S}"
    assert f"rate limited: x every account until {until} UTC (Too Many Requests)" in status.output
    missing = await asyncio.to_thread(invoke, "posts", "show", str(uuid.uuid4()))
    assert missing.exit_code == 1
    get_settings.cache_clear()
