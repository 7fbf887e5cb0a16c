"""Two API servers on one database and one Redis: the one that does not capture serves the
stream (through Redis pub/sub) and can end the session (the capturing node stops)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from allin.app import create_app
from allin.core.config import Settings
from allin.core.domain import app_state
from allin.live.domain import LiveSources
from allin.live.service import LiveService
from tests.auth.helpers import signed_in
from tests.live.capture.conftest import LIVE_TEST_SETTINGS
from tests.live.capture.support import FakeSources, chat, eventually, sse_events
from tests.support.server import serve


@pytest.mark.redis
async def test_stream_served_by_another_process(
    make_settings: Callable[..., Settings], database_url: str, redis_url: str
) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    settings = make_settings(
        database_url=database_url,
        redis_url=redis_url,
        redis_key_prefix=prefix,
        live_node_heartbeat=0.2,
        **LIVE_TEST_SETTINGS,
    )
    capturing, serving = FakeSources(live={"demo_streamer"}), FakeSources()
    app_a, app_b = create_app(settings), create_app(settings)
    app_state(app_a).provide(LiveSources(capturing))
    app_state(app_b).provide(LiveSources(serving))
    async with (
        serve(app_a) as url_a,
        serve(app_b) as url_b,
        httpx.AsyncClient(base_url=url_a, timeout=10) as a,
        httpx.AsyncClient(base_url=url_b, timeout=10) as b,
    ):
        alice = await signed_in(a, app_a)
        created = await a.post(
            "/api/sessions", json={"username": "demo_streamer"}, headers=alice.headers
        )
        session_id = created.json()["data"]["id"]
        assert (
            app_state(app_a).get(LiveService).hub.node_id
            != app_state(app_b).get(LiveService).hub.node_id
        )

        received: list[dict[str, Any]] = []
        async with b.stream(
            "GET", f"/api/sessions/{session_id}/stream", headers=alice.headers
        ) as response:
            events = sse_events(response)
            assert (await asyncio.wait_for(anext(events), 5)).event == "session"
            capturing.source("demo_streamer").push(chat(1, "via redis"), chat(2, "again"))
            while len(received) < 2:
                event = await asyncio.wait_for(anext(events), 5)
                if event.id is not None:
                    received.append(event.json())
            assert [e["message"] for e in received] == ["via redis", "again"]

            # Ending it on B: B tells the stream at once, A stops capturing at its next beat.
            ended = await b.delete(f"/api/sessions/{session_id}", headers=alice.headers)
            assert ended.json()["data"]["status"] == "ended"
            status = await asyncio.wait_for(anext(events), 5)
            while status.comment is not None:
                status = await asyncio.wait_for(anext(events), 5)
            assert status.event == "status" and status.json()["status"] == "ended"

        captures = app_state(app_a).get(LiveService).captures
        await eventually(lambda: not captures.capturing(uuid.UUID(session_id)))
        assert serving.opened == {}
