"""Hooks on user events: run after the suspension is committed, each one whatever the
others do, and only while registered."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from allin.auth.events import UserEvents, user_events
from allin.auth.models import Role, User, UserStatus
from allin.core.domain import app_state
from tests.auth.helpers import signed_in


async def test_every_registered_hook_runs_even_if_one_fails() -> None:
    events = UserEvents()
    heard: list[tuple[str, uuid.UUID]] = []

    async def failing(user_id: uuid.UUID) -> None:
        raise RuntimeError("broken hook")

    async def listening(user_id: uuid.UUID) -> None:
        heard.append(("listening", user_id))

    events.on_suspended(failing)
    remove = events.on_suspended(listening)
    someone = uuid.uuid4()
    await events.suspended(someone)
    assert heard == [("listening", someone)]
    remove()
    remove()  # twice is harmless
    await events.suspended(uuid.uuid4())
    assert heard == [("listening", someone)]


async def test_suspending_a_user_calls_the_hooks_after_the_commit(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await signed_in(client, app, role=Role.ADMIN)
    user = await signed_in(client, app)
    heard: asyncio.Queue[tuple[uuid.UUID, str | None]] = asyncio.Queue()

    async def hook(user_id: uuid.UUID) -> None:
        async with app_state(app).session_factory() as db:  # what other processes would see
            status = await db.scalar(select(User.status).where(User.id == user_id))
        heard.put_nowait((user_id, status))

    remove = user_events.on_suspended(hook)
    try:
        response = await client.post(
            f"/api/admin/users/{user.user_id}/suspend", headers=admin.headers
        )
        assert response.status_code == 200
        assert await asyncio.wait_for(heard.get(), 5) == (user.user_id, UserStatus.SUSPENDED)
        again = await client.post(
            f"/api/admin/users/{user.user_id}/activate", headers=admin.headers
        )
        assert again.status_code == 200
        await asyncio.sleep(0.05)
        assert heard.empty()  # activation is not a suspension
    finally:
        remove()
