"""Watchlist: the API, and the checker that starts and ends captures."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from allin.core.domain import app_state
from allin.live.service import LiveService
from tests.live.capture.support import FakeSources


async def test_watchlist_api(client: httpx.AsyncClient, alice: Any, bob: Any) -> None:
    added = await client.post(
        "/api/watchlist", json={"username": "@Demo_Streamer"}, headers=alice.headers
    )
    assert added.status_code == 201
    entry = added.json()["data"]
    assert entry["username"] == "demo_streamer" and entry["is_live"] is False
    again = await client.post(
        "/api/watchlist", json={"username": "demo_streamer"}, headers=alice.headers
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "LIVE_ALREADY_WATCHED"
    await client.post("/api/watchlist", json={"username": "another_one"}, headers=alice.headers)
    listed = await client.get("/api/watchlist", headers=alice.headers)
    assert [e["username"] for e in listed.json()["data"]] == ["another_one", "demo_streamer"]
    assert (await client.get("/api/watchlist", headers=bob.headers)).json()["data"] == []
    assert (
        await client.delete("/api/watchlist/demo_streamer", headers=bob.headers)
    ).status_code == 404
    removed = await client.delete("/api/watchlist/demo_streamer", headers=alice.headers)
    assert removed.status_code == 200
    assert (
        await client.delete("/api/watchlist/demo_streamer", headers=alice.headers)
    ).status_code == 404
    assert (
        await client.post("/api/watchlist", json={"username": "x y"}, headers=alice.headers)
    ).status_code == 422
    assert (await client.get("/api/watchlist")).status_code == 401


async def test_watcher_starts_and_ends_captures(
    client: httpx.AsyncClient, app: FastAPI, alice: Any, bob: Any, sources: FakeSources
) -> None:
    for who in (alice, bob):
        await client.post("/api/watchlist", json={"username": "sleepy_one"}, headers=who.headers)
    await client.post("/api/watchlist", json={"username": "demo_streamer"}, headers=alice.headers)
    watcher = app_state(app).get(LiveService).watcher

    await watcher.check_once()
    assert sources.status_calls == [["demo_streamer", "sleepy_one"]]  # one bulk check
    sessions = (await client.get("/api/sessions", headers=alice.headers)).json()["data"]
    assert [s["streamer_username"] for s in sessions] == ["demo_streamer"]
    entries = {
        e["username"]: e
        for e in (await client.get("/api/watchlist", headers=alice.headers)).json()["data"]
    }
    assert (
        entries["demo_streamer"]["is_live"]
        and entries["demo_streamer"]["last_session_id"] == sessions[0]["id"]
    )
    assert entries["sleepy_one"]["is_live"] is False and entries["sleepy_one"]["last_checked_at"]

    sources.live.add("sleepy_one")
    await watcher.check_once()
    await watcher.check_once()  # already capturing: nothing new
    for who in (alice, bob):
        names = [
            s["streamer_username"]
            for s in (await client.get("/api/sessions", headers=who.headers)).json()["data"]
        ]
        assert names.count("sleepy_one") == 1

    sources.live.discard("demo_streamer")
    await watcher.check_once()
    first = (await client.get(f"/api/sessions/{sessions[0]['id']}", headers=alice.headers)).json()[
        "data"
    ]
    assert (first["status"], first["end_reason"]) == ("ended", "offline")


def test_check_interval_has_jitter() -> None:
    from allin.live.watchlist import Watcher

    watcher = Watcher(session_factory=None, captures=None, interval=60, jitter=0.2)  # type: ignore[arg-type]
    delays = {watcher.next_delay() for _ in range(50)}
    assert all(48 <= d <= 72 for d in delays) and len(delays) > 40
