"""The REST API on a real loopback server: sessions, events with filters and cursors, raw
bytes, analytics, streamers, ownership (others get 404)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from allin.live.protocol import GiftInfo
from tests.live.capture.support import (
    LION,
    FakeSources,
    chat,
    eventually,
    gift,
    join,
    like,
    stream_end,
    viewers,
)


async def start(client: httpx.AsyncClient, who: Any, username: str = "demo_streamer") -> str:
    response = await client.post("/api/sessions", json={"username": username}, headers=who.headers)
    assert response.status_code == 201, response.text
    session_id: str = response.json()["data"]["id"]
    return session_id


async def wait_stored(client: httpx.AsyncClient, who: Any, session_id: str, total: int) -> None:
    async def stored() -> bool:
        response = await client.get(f"/api/sessions/{session_id}", headers=who.headers)
        return bool(response.json()["data"]["total_events"] == total)

    await eventually(stored)


async def test_create_session_and_clear_errors(
    client: httpx.AsyncClient, alice: Any, sources: FakeSources
) -> None:
    response = await client.post(
        "/api/sessions",
        json={"username": "https://www.tiktok.com/@Demo_Streamer/live"},
        headers=alice.headers,
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["streamer_username"] == "demo_streamer" and data["status"] == "active"
    assert data["streamer"]["follower_count"] == 1234 and data["room_id"] == "7400000000000000001"
    uuid.UUID(data["id"])

    again = await client.post(
        "/api/sessions", json={"username": "demo_streamer"}, headers=alice.headers
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "LIVE_ALREADY_CAPTURING"
    assert again.json()["error"]["details"]["session_id"] == data["id"]

    offline = await client.post(
        "/api/sessions", json={"username": "sleeping"}, headers=alice.headers
    )
    assert offline.status_code == 409 and offline.json()["error"]["code"] == "LIVE_USER_OFFLINE"
    missing = await client.post(
        "/api/sessions", json={"username": "nobody_here"}, headers=alice.headers
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "LIVE_USER_NOT_FOUND"
    invalid = await client.post(
        "/api/sessions", json={"username": "no spaces!"}, headers=alice.headers
    )
    assert invalid.status_code == 422
    extra = await client.post(
        "/api/sessions", json={"username": "demo_streamer", "x": 1}, headers=alice.headers
    )
    assert extra.status_code == 422
    anonymous = await client.post("/api/sessions", json={"username": "demo_streamer"})
    assert anonymous.status_code == 401


async def test_sessions_belong_to_their_owner(
    client: httpx.AsyncClient, alice: Any, bob: Any, sources: FakeSources
) -> None:
    session_id = await start(client, alice)
    sources.source("demo_streamer").push(chat(1, "secret"))
    await wait_stored(client, alice, session_id, 1)
    for method, path in (
        ("GET", f"/api/sessions/{session_id}"),
        ("DELETE", f"/api/sessions/{session_id}"),
        ("GET", f"/api/sessions/{session_id}/events"),
        ("GET", f"/api/sessions/{session_id}/events/1/raw"),
        ("GET", f"/api/sessions/{session_id}/analytics"),
        ("GET", f"/api/sessions/{session_id}/export?format=csv"),
        ("GET", f"/api/sessions/{session_id}/stream"),
        ("GET", f"/api/sessions/{session_id}/replay"),
        ("GET", "/api/streamers/demo_streamer"),
    ):
        response = await client.request(method, path, headers=bob.headers)
        assert response.status_code == 404, (method, path, response.text)
        assert "secret" not in response.text
    listed = await client.get("/api/sessions", headers=bob.headers)
    assert listed.json()["data"] == [] and listed.json()["meta"]["total"] == 0
    assert (await client.get("/api/streamers", headers=bob.headers)).json()["data"] == []
    # Bob can capture the same streamer himself: one capture per streamer *per owner*.
    assert await start(client, bob) != session_id
    unknown = await client.get(f"/api/sessions/{uuid.uuid4()}", headers=alice.headers)
    assert unknown.status_code == 404


async def test_list_sessions_with_filters_and_pages(
    client: httpx.AsyncClient, alice: Any, sources: FakeSources
) -> None:
    first = await start(client, alice, "demo_streamer")
    second = await start(client, alice, "other_streamer")
    ended = await client.delete(f"/api/sessions/{first}", headers=alice.headers)
    assert ended.status_code == 200
    assert ended.json()["data"]["status"] == "ended"
    assert ended.json()["data"]["end_reason"] == "stopped_by_user"

    def ids(response: httpx.Response) -> list[str]:
        return [s["id"] for s in response.json()["data"]]

    everything = await client.get("/api/sessions", headers=alice.headers)
    assert ids(everything) == [second, first]  # newest first
    assert everything.json()["meta"] == {"page": 1, "limit": 20, "total": 2, "next_cursor": None}
    active = await client.get("/api/sessions?status=active", headers=alice.headers)
    assert ids(active) == [second]
    by_name = await client.get("/api/sessions?streamer=@OTHER", headers=alice.headers)
    assert ids(by_name) == [second]
    started = everything.json()["data"][1]["started_at"]
    since = await client.get("/api/sessions", params={"since": started}, headers=alice.headers)
    assert set(ids(since)) == {first, second}
    until = await client.get("/api/sessions", params={"until": started}, headers=alice.headers)
    assert ids(until) == []
    page2 = await client.get("/api/sessions?limit=1&page=2", headers=alice.headers)
    assert ids(page2) == [first] and page2.json()["meta"]["total"] == 2
    bad = await client.get("/api/sessions?status=sleeping", headers=alice.headers)
    assert bad.status_code == 422
    # Ending twice is harmless.
    again = await client.delete(f"/api/sessions/{first}", headers=alice.headers)
    assert again.status_code == 200 and again.json()["data"]["status"] == "ended"


async def test_events_filters_and_cursor_pagination(
    client: httpx.AsyncClient, alice: Any, sources: FakeSources
) -> None:
    session_id = await start(client, alice)
    source = sources.source("demo_streamer")
    source.push(
        chat(1, "Hello World", at_ms=0),
        chat(2, "100% hype", at_ms=60_000),
        chat(1, "hello again", at_ms=120_000),
        gift(3, repeat=2, at_ms=130_000),
        like(4, 12, at_ms=140_000),
        join(5, at_ms=150_000),
    )
    await wait_stored(client, alice, session_id, 6)
    url = f"/api/sessions/{session_id}/events"

    async def get(**params: Any) -> list[dict[str, Any]]:
        response = await client.get(url, params=params, headers=alice.headers)
        assert response.status_code == 200, response.text
        events: list[dict[str, Any]] = response.json()["data"]
        return events

    everything = await get()
    assert [e["type"] for e in everything] == ["chat", "chat", "chat", "gift", "like", "join"]
    first = everything[0]
    assert first["unique_id"] == "viewer_001" and first["message"] == "Hello World"
    assert first["data"]["content"] == "Hello World" and isinstance(first["msg_id"], str)
    assert [e["type"] for e in await get(type="gift,like")] == ["gift", "like"]
    assert [e["type"] for e in await get(type=["join", "gift"])] == ["gift", "join"]
    assert [e["message"] for e in await get(user="@viewer_001")] == ["Hello World", "hello again"]
    assert len(await get(user=first["user_id"])) == 2
    assert [e["message"] for e in await get(q="HELLO")] == ["Hello World", "hello again"]
    assert [e["message"] for e in await get(q="0%")] == ["100% hype"]  # % is literal
    assert await get(q="_") == []
    window = await get(since=everything[1]["timestamp"], until=everything[3]["timestamp"])
    assert [e["id"] for e in window] == [everything[1]["id"], everything[2]["id"]]

    seen: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 4}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(url, params=params, headers=alice.headers)
        seen += [e["id"] for e in response.json()["data"]]
        cursor = response.json()["meta"]["next_cursor"]
        if cursor is None:
            break
    assert seen == [e["id"] for e in everything]
    newest = await client.get(url, params={"order": "desc", "limit": 2}, headers=alice.headers)
    desc = [e["id"] for e in newest.json()["data"]]
    assert desc == [everything[5]["id"], everything[4]["id"]]
    older = await client.get(
        url,
        params={"order": "desc", "limit": 10, "cursor": newest.json()["meta"]["next_cursor"]},
        headers=alice.headers,
    )
    assert [e["id"] for e in older.json()["data"]] == [e["id"] for e in everything[3::-1]]

    raw = await client.get(f"{url}/{first['id']}/raw", headers=alice.headers)
    assert raw.status_code == 200 and raw.headers["content-type"] == "application/x-protobuf"
    from allin.live.protocol import decode_message

    assert decode_message("WebcastChatMessage", raw.content).content == "Hello World"
    assert (await client.get(f"{url}/999999/raw", headers=alice.headers)).status_code == 404


async def test_analytics(client: httpx.AsyncClient, alice: Any, sources: FakeSources) -> None:
    session_id = await start(client, alice)
    rose_streak = [gift(1, repeat=r, group=7, at_ms=1_000 * r) for r in (1, 2, 3)]
    rose_streak.append(gift(1, repeat=3, group=7, end=True, at_ms=4_000))
    sources.source("demo_streamer").push(
        viewers(10, at_ms=0),
        chat(2, "a", at_ms=5_000),
        chat(2, "b", at_ms=6_000),
        chat(3, "c", at_ms=61_000),
        *rose_streak,
        gift(3, LION, group=0, at_ms=62_000),
        gift(4, GiftInfo(id=5, name="Heart", diamond_count=5, type=2), group=0, at_ms=63_000),
        like(2, 40, at_ms=64_000),
        viewers(35, at_ms=65_000),
        viewers(20, at_ms=125_000),
    )
    await wait_stored(client, alice, session_id, 13)
    response = await client.get(f"/api/sessions/{session_id}/analytics", headers=alice.headers)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["counts"] == {"chat": 3, "gift": 6, "like": 1, "room_user": 3}
    assert data["total_events"] == 13
    assert data["unique_users"] == 4  # viewers 1-4; room_user events have no user
    assert data["diamonds"] == 3 + 29_999 + 5
    assert data["estimated_usd"] == round((3 + 29_999 + 5) * 0.005, 2)
    assert data["likes"] == 40 and data["peak_viewers"] == 35 and data["current_viewers"] == 20
    assert [p["value"] for p in data["viewers_timeline"]] == [10, 35, 20]
    assert [p["value"] for p in data["events_per_minute"]] == [7, 5, 1]
    minutes = [p["minute"] for p in data["events_per_minute"]]
    assert minutes[0].startswith("2025-11-24T16:00:00") and minutes == sorted(minutes)
    gifters = data["top_gifters"]
    assert [(g["unique_id"], g["diamonds"], g["gifts"]) for g in gifters] == [
        ("viewer_003", 29_999, 1),
        ("viewer_004", 5, 1),
        ("viewer_001", 3, 3),  # one streak of 3 roses, counted once
    ]
    assert [(c["unique_id"], c["messages"]) for c in data["top_chatters"]] == [
        ("viewer_002", 2),
        ("viewer_003", 1),
    ]
    assert data["top_gifts"][0]["gift_name"] == "Lion"
    assert data["duration_seconds"] >= 0
    top1 = await client.get(f"/api/sessions/{session_id}/analytics?top=1", headers=alice.headers)
    assert len(top1.json()["data"]["top_gifters"]) == 1


async def test_stream_end_closes_the_session(
    client: httpx.AsyncClient, alice: Any, sources: FakeSources
) -> None:
    session_id = await start(client, alice)
    sources.source("demo_streamer").push(chat(1, "bye"), stream_end(4))

    async def ended() -> bool:
        response = await client.get(f"/api/sessions/{session_id}", headers=alice.headers)
        return bool(response.json()["data"]["status"] == "ended")

    await eventually(ended)
    data = (await client.get(f"/api/sessions/{session_id}", headers=alice.headers)).json()["data"]
    assert data["end_reason"] == "suspended" and data["ended_at"] is not None
    # The streamer can be captured again: a new session.
    assert await start(client, alice) != session_id


async def test_streamers(client: httpx.AsyncClient, alice: Any, app: FastAPI) -> None:
    first = await start(client, alice, "demo_streamer")
    await client.delete(f"/api/sessions/{first}", headers=alice.headers)
    await start(client, alice, "demo_streamer")
    await start(client, alice, "other_streamer")
    listed = await client.get("/api/streamers", headers=alice.headers)
    assert listed.status_code == 200
    by_name = {s["username"]: s for s in listed.json()["data"]}
    assert set(by_name) == {"demo_streamer", "other_streamer"}
    assert by_name["demo_streamer"]["total_sessions"] == 2 and by_name["demo_streamer"]["capturing"]
    assert by_name["demo_streamer"]["display_name"] == "Demo_Streamer"
    assert listed.json()["meta"]["total"] == 2
    searched = await client.get("/api/streamers?q=other", headers=alice.headers)
    assert [s["username"] for s in searched.json()["data"]] == ["other_streamer"]
    detail = await client.get("/api/streamers/@Demo_Streamer", headers=alice.headers)
    assert detail.status_code == 200
    body = detail.json()["data"]
    assert body["bio"] == "bio of demo_streamer" and len(body["recent_sessions"]) == 2
    assert (
        await client.get("/api/streamers/unknown_one", headers=alice.headers)
    ).status_code == 404
    assert (await client.get("/api/streamers/bad%20name", headers=alice.headers)).status_code == 422


async def test_live_health_check(client: httpx.AsyncClient, alice: Any) -> None:
    await start(client, alice)
    response = await client.get("/api/health/live")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "healthy" and data["captures"] == 1 and data["pending_events"] == 0
