"""Bad input to the LIVE API is a clear 4xx from the documented rules, never a 500."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.live.watchlist import AlreadyWatchedError, add_entry
from tests.live.capture.support import FakeSources, chat, eventually

TOO_BIG = str(2**63)  # one past the largest 64-bit event id


async def _session_with_events(client: httpx.AsyncClient, who: Any, sources: FakeSources) -> str:
    sources.live.add("demo_streamer")
    sources.prefill["demo_streamer"] = [chat(1, "hello"), chat(2, "world")]
    created = await client.post(
        "/api/sessions", json={"username": "demo_streamer"}, headers=who.headers
    )
    assert created.status_code == 201, created.text
    session_id: str = created.json()["data"]["id"]

    async def stored() -> bool:
        response = await client.get(f"/api/sessions/{session_id}", headers=who.headers)
        return bool(response.json()["data"]["total_events"] == 2)

    await eventually(stored)
    return session_id


async def test_event_ids_beyond_the_column_are_422_and_documented(
    client: httpx.AsyncClient, alice: Any, sources: FakeSources, app: FastAPI
) -> None:
    session_id = await _session_with_events(client, alice, sources)
    base = f"/api/sessions/{session_id}"
    for path, params in (
        (f"{base}/events/{TOO_BIG}/raw", {}),
        (f"{base}/events", {"cursor": TOO_BIG}),
        (f"{base}/events", {"cursor": TOO_BIG, "order": "desc"}),
        (f"{base}/stream", {"last_event_id": TOO_BIG}),
    ):
        response = await client.get(path, params=params, headers=alice.headers)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["success"] is False
    header = await client.get(f"{base}/stream", headers={**alice.headers, "Last-Event-ID": TOO_BIG})
    assert header.status_code == 400
    largest = str(2**63 - 1)
    assert (
        await client.get(f"{base}/events/{largest}/raw", headers=alice.headers)
    ).status_code == 404
    page = await client.get(f"{base}/events", params={"cursor": largest}, headers=alice.headers)
    assert page.status_code == 200 and page.json()["data"] == []

    spec = app.openapi()["paths"]
    raw = spec["/api/sessions/{session_id}/events/{event_id}/raw"]["get"]["parameters"]
    assert [p["schema"]["maximum"] for p in raw if p["name"] == "event_id"] == [2**63 - 1]


async def test_control_characters_in_search_terms_and_names_are_422(
    client: httpx.AsyncClient, alice: Any, sources: FakeSources, app: FastAPI
) -> None:
    session_id = await _session_with_events(client, alice, sources)
    events = f"/api/sessions/{session_id}/events"
    matching = await client.get(events, params={"q": "\x00qqqqzzzz"}, headers=alice.headers)
    assert matching.status_code == 422
    assert (await client.get(events, params={"q": "zzzz"}, headers=alice.headers)).json()[
        "data"
    ] == []
    for path, params in (
        (events, {"user": "\x00"}),
        (events, {"type": "chat\x00"}),
        ("/api/sessions", {"streamer": "demo\x1f"}),
        ("/api/streamers", {"q": "\x7f"}),
        ("/api/streamers/demo%00streamer", {}),
    ):
        response = await client.get(path, params=params, headers=alice.headers)
        assert response.status_code == 422, (path, params, response.text)
    for body in ({"username": "demo_streamer\x00"}, {"username": "demo\nstreamer"}):
        added = await client.post("/api/watchlist", json=body, headers=alice.headers)
        assert added.status_code == 422
    gone = await client.delete("/api/watchlist/demo%00streamer", headers=alice.headers)
    assert gone.status_code == 422

    spec = app.openapi()
    parameters = spec["paths"]["/api/sessions/{session_id}/events"]["get"]["parameters"]
    q = next(p for p in parameters if p["name"] == "q")
    assert q["schema"]["anyOf"][0]["pattern"] == "^[^\\x00-\\x1f\\x7f]*$"
    username = spec["components"]["schemas"]["WatchlistCreate"]["properties"]["username"]
    assert username["maxLength"] == 200 and "A-Za-z0-9_." in username["pattern"]


async def test_concurrent_adds_to_the_watchlist_give_one_201_and_409s(
    client: httpx.AsyncClient, alice: Any
) -> None:
    responses = await asyncio.gather(
        *(
            client.post("/api/watchlist", json={"username": "race_user_2"}, headers=alice.headers)
            for _ in range(8)
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 7, [r.text for r in responses if r.status_code >= 500]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
        "LIVE_ALREADY_WATCHED"
    }


async def test_a_unique_race_past_the_check_is_the_checks_409(
    factory: async_sessionmaker[AsyncSession], owner: uuid.UUID
) -> None:
    """Both requests pass the check; the second insert meets the first's row."""
    async with factory() as first, factory() as second:
        await add_entry(first, owner, "race_user_2")  # inserted, not yet committed
        racing = asyncio.create_task(add_entry(second, owner, "race_user_2"))
        await asyncio.sleep(0.05)  # the second has checked and waits on the write lock
        await first.commit()
        with pytest.raises(AlreadyWatchedError) as raised:
            await racing
    assert raised.value.status_code == 409 and raised.value.code == "LIVE_ALREADY_WATCHED"
