"""ALLIN_QUEUE=procrastinate wired end to end: the app defers a job after the commit and runs
no dispatcher, an `allin worker` publishes and shows in the admin's queue status; SQLite is
refused with a clear message, by the app at start-up and by `allin worker` (exit 2)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from allin.app import create_app
from allin.auth.models import Role
from allin.cli import app as cli
from allin.core.config import Settings, get_settings
from allin.core.domain import app_state
from allin.posts.ports import PublishingAccounts
from allin.posts.tasks import PUBLISH_TASK, QueueNeedsPostgresError
from tests.auth.helpers import signed_in
from tests.posts.platform import PlatformState
from tests.posts.provider import LoopbackAccounts, LoopbackProvider
from tests.posts.test_procrastinate import running_worker, wait_for
from tests.support.databases import fresh_database
from tests.support.server import serve


def test_allin_worker_on_sqlite_exits_2_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ALLIN_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    monkeypatch.setenv("ALLIN_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["worker"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert "PostgreSQL" in result.output and "ALLIN_QUEUE=embedded" in result.output


async def test_the_app_refuses_the_procrastinate_queue_on_sqlite(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", queue="procrastinate"
    )
    app = create_app(settings)
    with pytest.raises(QueueNeedsPostgresError, match="need PostgreSQL"):
        async with app.router.lifespan_context(app):
            pass


@pytest.mark.postgres
async def test_a_post_published_now_is_a_job_for_the_workers(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    platform: tuple[PlatformState, str],
) -> None:
    state, url = platform
    async with fresh_database("postgres", tmp_path) as database_url:
        settings = make_settings(
            database_url=database_url,
            queue="procrastinate",
            rate_limit_enabled=False,
            posts_poll_interval=0.2,
            posts_concurrency=2,
        )
        app = create_app(settings)
        provider = LoopbackProvider(url)
        accounts = LoopbackAccounts(provider)
        app_state(app).provide(accounts, PublishingAccounts)  # type: ignore[type-abstract]
        async with serve(app) as base, httpx.AsyncClient(base_url=base, timeout=10) as http:
            sessions = app_state(app).session_factory
            alice = await signed_in(http, app)
            admin = await signed_in(http, app, role=Role.ADMIN)
            account = accounts.add(alice.user_id)
            created = await http.post(
                "/api/posts",
                json={"content": "Hi", "account_ids": [str(account)], "schedule": {"mode": "now"}},
                headers=alice.headers,
            )
            assert created.status_code == 201, created.text
            post_id = created.json()["data"]["id"]
            await wait_for(lambda: _has_job(sessions))
            await asyncio.sleep(0.5)  # no dispatcher in the app: nothing is sent
            assert state.posts == []
            async with running_worker(settings, accounts):
                await wait_for(lambda: _published(http, alice.headers, post_id))
                status = await http.get("/api/admin/queue/status", headers=admin.headers)
            workers = status.json()["data"]["workers"]
            assert [w["kind"] for w in workers] == ["procrastinate"]
            assert status.json()["data"]["mode"] == "procrastinate"
        await provider.aclose()
    assert len(state.posts) == 1


async def _has_job(sessions: async_sessionmaker[AsyncSession]) -> bool:
    async with sessions() as session:
        found = await session.scalar(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = :t"),
            {"t": PUBLISH_TASK},
        )
    return bool(found)


async def _published(http: httpx.AsyncClient, headers: dict[str, str], post_id: str) -> bool:
    body = (await http.get(f"/api/posts/{post_id}", headers=headers)).json()
    return bool(body["data"]["targets"][0]["status"] == "PUBLISHED")
