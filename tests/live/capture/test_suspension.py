"""A suspended user's captures end: at once on the process that suspended them, at the next
heartbeat elsewhere; the watchlist and adoption start none for them."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from allin.auth.models import Role, User, UserStatus
from allin.core.domain import app_state
from allin.live.service import LiveService
from tests.auth.helpers import signed_in
from tests.live.capture.support import FakeSources, eventually
from tests.live.capture.test_api import start


async def _status(app: FastAPI, session_id: str) -> tuple[str, str | None]:
    from allin.live.models import LiveSession

    async with app_state(app).session_factory() as db:
        session = await db.get(LiveSession, uuid.UUID(session_id))
    assert session is not None
    return session.status, session.end_reason


async def test_suspending_a_user_ends_their_captures_at_once(
    client: httpx.AsyncClient, app: FastAPI, alice: Any, bob: Any
) -> None:
    admin = await signed_in(client, app, role=Role.ADMIN)
    alices = await start(client, alice)
    bobs = await start(client, bob)
    captures = app_state(app).get(LiveService).captures
    suspended = await client.post(
        f"/api/admin/users/{alice.user_id}/suspend", headers=admin.headers
    )
    assert suspended.status_code == 200

    async def ended() -> bool:
        return await _status(app, alices) == ("ended", "owner_suspended")

    await eventually(ended)
    assert not captures.capturing(uuid.UUID(alices))
    assert captures.capturing(uuid.UUID(bobs))  # nobody else's
    assert await _status(app, bobs) == ("active", None)


async def test_a_suspension_made_elsewhere_ends_captures_at_the_next_heartbeat(
    client: httpx.AsyncClient, app: FastAPI, alice: Any, sources: FakeSources
) -> None:
    session_id = await start(client, alice)
    async with app_state(app).session_factory() as db:  # as `allin users suspend` does
        await db.execute(
            update(User).where(User.id == alice.user_id).values(status=UserStatus.SUSPENDED)
        )
        await db.commit()
    service = app_state(app).get(LiveService)
    assert service.captures.capturing(uuid.UUID(session_id))
    await service.captures.beat()
    assert await _status(app, session_id) == ("ended", "owner_suspended")

    # Neither the watchlist nor adoption starts a capture for them.
    from allin.live.watchlist import add_entry

    async with app_state(app).session_factory() as db:
        await add_entry(db, alice.user_id, "other_streamer")
        await db.commit()
    await service.watcher.check_once()
    assert service.captures.session_for(alice.user_id, "other_streamer") is None
    assert "other_streamer" not in sources.opened
