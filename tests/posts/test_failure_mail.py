"""The mail a post's owner gets when X refuses the post, over real SMTP: once per target (a
retry that fails again does not mail again), with the platform's words and a link to the
post's page, and never when the owner turned failure mails off (the in-app list still has it)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from allin.auth.runtime import AuthRuntime
from allin.core.clock import clock
from allin.core.config import Settings
from allin.core.domain import app_state
from allin.posts.media import MediaStore
from allin.posts.models import Notification, TargetStatus
from allin.posts.notify import Notifier
from allin.posts.publisher import Publisher
from tests.auth.mail import SmtpServer
from tests.posts.conftest import add_due_targets
from tests.posts.connected import Connected, connected
from tests.posts.test_platform_faults import QUEUE, _row, _step

TEXT = "Big news today"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
async def env(
    engine: AsyncEngine, base_values: dict[str, Any], smtp: SmtpServer
) -> AsyncIterator[Connected]:
    mail = {"email_backend": "smtp", "smtp_host": "127.0.0.1", "smtp_port": smtp.port}
    async with connected(base_values, smtp_tls="none", **mail) as running:
        yield running


def _publisher(env: Connected, sessions: async_sessionmaker[AsyncSession]) -> Publisher:
    """A publisher that mails through the app's own mailer."""
    settings = Settings(_env_file=None, **{**env.values, **QUEUE})  # type: ignore[call-arg]
    mailer = app_state(env.app).get(AuthRuntime).mailer
    media = MediaStore(settings.data_dir / "media", settings.posts_max_upload_bytes)
    notifier = Notifier(settings, mailer)
    return Publisher(settings, sessions, env.accounts(), media, notifier, "test-worker")


async def _refused_target(env: Connected, sessions: async_sessionmaker[AsyncSession]) -> uuid.UUID:
    """A due post on X whose text the account posted an hour ago: X refuses a duplicate."""
    (account,) = await env.connect("x")
    credentials = await env.credentials(account["id"])
    async with httpx.AsyncClient() as http:
        sent = await http.post(
            f"{env.socials.urls['x']}/2/tweets",
            json={"text": f"{TEXT} 0"},
            headers={"Authorization": f"Bearer {credentials.access_token}"},
        )
    assert sent.status_code == 201, sent.text
    (target_id,) = await add_due_targets(
        sessions, env.owner_id, 1, clock.now(), uuid.UUID(account["id"]), "x", TEXT
    )
    return target_id


async def _notes(sessions: async_sessionmaker[AsyncSession]) -> list[Notification]:
    async with sessions() as session:
        return list((await session.scalars(select(Notification))).all())


async def test_a_refused_post_is_mailed_once_with_the_reason_and_a_link(
    env: Connected, sessions: async_sessionmaker[AsyncSession], smtp: SmtpServer
) -> None:
    target_id = await _refused_target(env, sessions)
    publisher = _publisher(env, sessions)
    assert await _step(publisher, target_id) is TargetStatus.FAILED

    mail = await smtp.mailbox.wait_for(env.owner.email)
    row = await _row(sessions, target_id)
    assert row.last_error_code == "CONTENT_003"  # refused content: no retry
    assert row.last_error == "You are not allowed to create a Tweet with duplicate content."
    assert mail.message["Subject"] == "A scheduled post failed"
    assert mail.message["From"] == Settings(_env_file=None).mail_from  # type: ignore[call-arg]
    body = mail.body
    assert "Your post to x failed" in body
    assert "You are not allowed to create a Tweet with duplicate content." in body
    link = f"{env.values['public_url']}/app/posts/{row.post_id}"
    assert link in body
    page = await env.client.get(link)  # the dashboard serves the post's page
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]

    # The user retries; X refuses again: a second notification, no second mail.
    retried = await env.client.post(f"/api/posts/{row.post_id}/retry", headers=env.owner.headers)
    assert retried.status_code == 200, retried.text
    assert await _step(publisher, target_id) is TargetStatus.FAILED
    await asyncio.sleep(0.3)  # time for a mail that must not come
    assert len(smtp.mailbox.to(env.owner.email)) == 1
    assert len(await _notes(sessions)) == 2


async def test_no_mail_when_the_owner_turned_failure_mails_off(
    env: Connected, sessions: async_sessionmaker[AsyncSession], smtp: SmtpServer
) -> None:
    off = await env.client.put(
        "/api/posts/preferences/email", params={"enabled": "false"}, headers=env.owner.headers
    )
    assert off.status_code == 200 and off.json()["data"] is False
    target_id = await _refused_target(env, sessions)
    assert await _step(_publisher(env, sessions), target_id) is TargetStatus.FAILED
    await asyncio.sleep(0.3)
    assert smtp.mailbox.to(env.owner.email) == []
    (note,) = await _notes(sessions)
    assert note.target_id == target_id and "duplicate content" in note.message
