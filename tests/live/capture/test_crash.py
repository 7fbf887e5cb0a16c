"""Kill -9 the server mid-capture: every event a client was sent is in the database, and the
next process resumes the session."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.app import create_app
from allin.auth.api_keys import create_api_key
from allin.auth.models import User
from allin.core.config import Settings
from allin.core.domain import app_state
from allin.live.domain import LiveSources
from allin.live.models import LiveEventRow, LiveSession
from tests.live.capture.crash_app import TickingSources
from tests.live.capture.support import eventually, sse_events
from tests.support.server import free_port, serve

ROOT = Path(__file__).resolve().parents[3]


async def _api_key(factory: async_sessionmaker[AsyncSession], owner: uuid.UUID) -> str:
    async with factory() as db:
        user = await db.get(User, owner)
        assert user is not None
        _, raw = await create_api_key(db, user, "crash-test", None, scopes=("read", "account"))
        await db.commit()
    return raw


async def _spawn(
    database_url: str, data_dir: Path, port: int, **overrides: str
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "ALLIN_ENV": "test",
        "ALLIN_DATABASE_URL": database_url,
        "ALLIN_DATA_DIR": str(data_dir),
        "ALLIN_SECRET_KEY": "crash-test-secret-key",
        "ALLIN_PASSWORD_HASH_PROFILE": "test",
        "ALLIN_RATE_LIMIT_ENABLED": "false",
        "ALLIN_REDIS_URL": "",
        "ALLIN_LOG_LEVEL": "WARNING",
        "ALLIN_LIVE_FLUSH_INTERVAL": "0.01",
        "ALLIN_LIVE_NODE_HEARTBEAT": "0.2",
        "ALLIN_LIVE_STALE_AFTER": "1",
        **overrides,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.live.capture.crash_app", str(port), env=env, cwd=ROOT
    )

    async def up() -> bool:
        try:
            async with httpx.AsyncClient() as http:
                return (await http.get(f"http://127.0.0.1:{port}/api/health")).status_code == 200
        except httpx.TransportError:
            return False

    try:
        await eventually(up, within=60, interval=0.05)
    except BaseException:
        process.kill()  # never leave a server behind
        await process.wait()
        raise
    return process


async def _stop(process: asyncio.subprocess.Process, sig: int) -> None:
    if process.returncode is None:
        process.send_signal(sig)
        await asyncio.wait_for(process.wait(), 20)


async def test_kill_mid_capture_loses_no_acknowledged_event(
    make_settings: Callable[..., Settings],
    database_url: str,
    tmp_path: Path,
    factory: async_sessionmaker[AsyncSession],
    owner: uuid.UUID,
) -> None:
    headers = {"x-api-key": await _api_key(factory, owner)}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    first = await _spawn(database_url, tmp_path, port)
    received: list[dict[str, Any]] = []
    try:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as http:
            created = await http.post("/api/sessions", json={"username": "demo_streamer"})
            assert created.status_code == 201, created.text
            session_id = created.json()["data"]["id"]
            async with http.stream("GET", f"/api/sessions/{session_id}/stream") as response:
                async for event in sse_events(response):
                    if event.id is not None:
                        received.append(event.json())
                    if len(received) >= 300:
                        first.send_signal(signal.SIGKILL)  # mid-stream, writer busy
                        break
    finally:
        await _stop(first, signal.SIGKILL)

    ids = [e["id"] for e in received]
    async with factory() as db:
        stored = dict(
            (
                await db.execute(
                    select(LiveEventRow.id, LiveEventRow.message).where(LiveEventRow.id.in_(ids))
                )
            ).all()
        )
        session = await db.get(LiveSession, uuid.UUID(session_id))
    assert stored == {e["id"]: e["message"] for e in received}
    assert session is not None and session.status == "active"  # nobody could mark it

    # The next process (here in-process, to keep the test fast) adopts the stale session.
    settings = make_settings(
        database_url=database_url,
        password_hash_profile="test",
        live_flush_interval=0.01,
        live_node_heartbeat=0.2,
        live_stale_after=1,
    )
    app = create_app(settings)
    app_state(app).provide(LiveSources(TickingSources()))
    async with (
        serve(app) as base_url,
        httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10) as http,
    ):

        async def resumed() -> bool:
            data = (await http.get(f"/api/sessions/{session_id}")).json()["data"]
            return bool(data["resume_count"] == 1 and data["total_events"] > len(received))

        await eventually(resumed, within=15)
        after = await http.get(
            f"/api/sessions/{session_id}/events", params={"cursor": max(ids), "limit": 5}
        )
        assert after.json()["data"], "the resumed capture appends to the same session"
    # The graceful stop wrote what it had and marked the session for the next start.
    async with factory() as db:
        session = await db.get(LiveSession, uuid.UUID(session_id))
    assert session is not None
    assert (session.status, session.end_reason) == ("interrupted", "shutdown")


async def test_a_restarted_process_takes_its_sessions_back_at_once(
    database_url: str,
    tmp_path: Path,
    factory: async_sessionmaker[AsyncSession],
    owner: uuid.UUID,
) -> None:
    """kill -9, then the same server again (same data directory): the session captures
    again within seconds, long before another node would call it stale (45 s)."""
    headers = {"x-api-key": await _api_key(factory, owner)}
    slow = {"ALLIN_LIVE_STALE_AFTER": "45", "ALLIN_LIVE_NODE_HEARTBEAT": "10"}
    port = free_port()
    first = await _spawn(database_url, tmp_path, port, **slow)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers) as http:
            created = await http.post("/api/sessions", json={"username": "demo_streamer"})
            assert created.status_code == 201, created.text
            session_id = uuid.UUID(created.json()["data"]["id"])

            async def some_stored() -> bool:
                data = (await http.get(f"/api/sessions/{session_id}/events")).json()["data"]
                return len(data) >= 5

            await eventually(some_stored, within=10)
    finally:
        await _stop(first, signal.SIGKILL)

    port = free_port()
    second = await _spawn(database_url, tmp_path, port, **slow)
    try:

        async def resumed() -> bool:
            async with factory() as db:
                session = await db.get(LiveSession, session_id)
            assert session is not None
            return bool(session.status == "active" and session.resume_count == 1)

        # Well under the 45 s after which another node would adopt it (on an idle machine
        # about a second: one start-up query and one reconnect).
        await eventually(resumed, within=15, interval=0.05)
    finally:
        await _stop(second, signal.SIGTERM)
