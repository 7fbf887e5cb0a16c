"""LIVE recap: a captured session's analytics become a thank-you draft per platform."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from allin.core.domain import app_state
from allin.live.models import LiveEventRow, LiveSession, Streamer
from tests.ai.conftest import Sims
from tests.auth.helpers import SignedIn, signed_in

START = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


async def captured_session(app: FastAPI, owner: uuid.UUID) -> uuid.UUID:
    """A finished capture, as the LIVE domain stores it (the test plays the capture)."""
    async with app_state(app).session_factory() as db:
        username = f"baker_{uuid.uuid4().hex[:6]}"
        db.add(Streamer(username=username, total_sessions=1))
        await db.flush()
        session = LiveSession(
            owner_id=owner,
            streamer_username=username,
            started_at=START,
            ended_at=START + timedelta(minutes=45),
            status="ended",
            streamer_info={},
            counters={"gift": 2, "chat": 3},
            peak_viewers=321,
            total_likes=4000,
            total_diamonds=600,
        )
        db.add(session)
        await db.flush()
        rows = [
            ("gift", "1", "rosefan", 500, "Lion"),
            ("gift", "2", "tinytipper", 100, "Rose"),
            ("chat", "3", "chattykathy", 0, None),
            ("chat", "3", "chattykathy", 0, None),
            ("chat", "1", "rosefan", 0, None),
        ]
        for i, (kind, user_id, handle, diamonds, gift) in enumerate(rows):
            db.add(
                LiveEventRow(
                    session_id=session.id,
                    type=kind,
                    user_id=user_id,
                    unique_id=handle,
                    nickname=handle.title(),
                    diamonds=diamonds,
                    gift_count=1 if gift else 0,
                    gift_id=7 if gift == "Lion" else (5 if gift else None),
                    gift_name=gift,
                    created_at=START + timedelta(minutes=i),
                )
            )
        await db.commit()
        return session.id


async def test_recap_drafts_thank_supporters_by_handle(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn, sims: Sims
) -> None:
    session_id = await captured_session(app, alice.user_id)
    response = await client.post(
        "/api/ai/live-recap",
        json={"session_id": str(session_id), "platforms": ["tiktok", "x"]},
        headers=alice.headers,
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert [d["platform"] for d in data["drafts"]] == ["tiktok", "x"]
    assert all(d["source"] == "live_recap" for d in data["drafts"])
    assert data["drafts"][0]["details"] == {"session_id": str(session_id)}
    prompt = sims.openai.requests[0].body["messages"][1]["content"]
    assert "@rosefan" in prompt and "@chattykathy" in prompt and '"peak_viewers": 321' in prompt
    listed = await client.get("/api/ai/drafts", headers=alice.headers)
    assert len(listed.json()["data"]) == 2


async def test_recap_of_someone_elses_session_is_404(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn, sims: Sims
) -> None:
    session_id = await captured_session(app, alice.user_id)
    bob = await signed_in(client, app)
    response = await client.post(
        "/api/ai/live-recap", json={"session_id": str(session_id)}, headers=bob.headers
    )
    assert response.status_code == 404
    assert not sims.openai.requests
