"""Real time over a real server: SSE with ids, Last-Event-ID resume without gap, type filter,
heartbeats, end of stream; the WebSocket equivalent; replay with original timing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
import websockets

from allin.app import create_app
from allin.core.config import Settings
from allin.core.domain import app_state
from allin.live.domain import LiveSources
from tests.live.capture.support import (
    FakeSources,
    Sse,
    chat,
    eventually,
    like,
    sse_events,
    stream_end,
)
from tests.live.capture.test_api import start, wait_stored
from tests.support.server import free_port


@asynccontextmanager
async def sse(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any
) -> AsyncIterator[AsyncIterator[Sse]]:
    async with client.stream("GET", path, params=params, headers=headers, timeout=10) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield sse_events(response)


async def take(events: AsyncIterator[Sse], count: int, *, skip_comments: bool = True) -> list[Sse]:
    taken: list[Sse] = []
    while len(taken) < count:
        event = await asyncio.wait_for(anext(events), 5)
        if event.comment is not None and skip_comments:
            continue
        taken.append(event)
    return taken


async def test_sse_sends_ids_and_resumes_from_last_event_id_without_gap(
    client: httpx.AsyncClient, alice: Any, sources: FakeSources
) -> None:
    session_id = await start(client, alice)
    source = sources.source("demo_streamer")
    source.push(chat(1, "before anyone listened"))
    await wait_stored(client, alice, session_id, 1)
    path = f"/api/sessions/{session_id}/stream"

    async with sse(client, path, alice.headers) as events:
        summary = (await take(events, 1))[0]
        assert summary.event == "session" and summary.json()["total_events"] == 1
        source.push(chat(2, "one"), chat(3, "two"))
        first = await take(events, 2)
    assert [e.json()["message"] for e in first] == ["one", "two"]
    assert [int(e.id or 0) for e in first] == [e.json()["id"] for e in first]

    # While disconnected, more events arrive; resume exactly after the last id seen.
    source.push(*(chat(4, f"missed {i}") for i in range(5)))
    await wait_stored(client, alice, session_id, 8)
    resume = {**alice.headers, "Last-Event-ID": first[-1].id or ""}
    async with sse(client, path, resume) as events:
        await take(events, 1)  # session summary
        source.push(chat(5, "live again"))
        got = await take(events, 6)
    assert [e.json()["message"] for e in got] == [f"missed {i}" for i in range(5)] + ["live again"]
    ids = [int(e.id or 0) for e in got]
    assert ids == sorted(ids) and ids[0] > int(first[-1].id or 0)

    # The same through the query parameter, for clients that cannot set headers.
    async with sse(client, path, alice.headers, last_event_id=ids[-2]) as events:
        await take(events, 1)
        assert [e.json()["message"] for e in await take(events, 1)] == ["live again"]


async def test_sse_backlog_type_filter_heartbeat_and_end(
    client: httpx.AsyncClient, alice: Any, sources: FakeSources
) -> None:
    session_id = await start(client, alice)
    source = sources.source("demo_streamer")
    source.push(chat(1, "old 1"), like(1, 3), chat(1, "old 2"))
    await wait_stored(client, alice, session_id, 3)
    path = f"/api/sessions/{session_id}/stream"
    async with sse(client, path, alice.headers, backlog=1, type="chat") as events:
        await take(events, 1)
        assert [e.json()["message"] for e in await take(events, 1)] == ["old 2"]
        source.push(like(2, 5), chat(2, "new"))
        assert [e.json()["message"] for e in await take(events, 1)] == ["new"]
        # Heartbeat comments keep an idle stream open (0.3 s in these tests).
        comment = await take(events, 1, skip_comments=False)
        assert comment[0].comment is not None
        source.push(stream_end())
        ended = await take(events, 1)
        assert ended[0].event == "status"
        assert ended[0].json() == {"status": "ended", "reason": "ended_by_host"}
        with pytest.raises(StopAsyncIteration):
            while True:
                event = await asyncio.wait_for(anext(events), 5)
                assert event.comment is not None  # nothing but pings before the close

    # An ended session streams what is stored after the id, then its status, then closes.
    async with sse(client, path, alice.headers, last_event_id=0) as events:
        collected = [e async for e in events if e.comment is None]
    assert collected[0].event == "session"
    assert [e.json()["type"] for e in collected[1:-1]] == [
        "chat",
        "like",
        "chat",
        "like",
        "chat",
        "control",
    ]
    assert collected[-1].event == "status"


async def test_websocket_equivalent(
    client: httpx.AsyncClient, alice: Any, bob: Any, sources: FakeSources
) -> None:
    session_id = await start(client, alice)
    source = sources.source("demo_streamer")
    source.push(chat(1, "stored"))
    await wait_stored(client, alice, session_id, 1)
    url = str(client.base_url).replace("http", "ws") + f"/api/sessions/{session_id}/ws"
    async with websockets.connect(url + "?last_event_id=0", additional_headers=alice.headers) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert hello["kind"] == "session"
        stored = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert stored["kind"] == "event" and stored["data"]["message"] == "stored"
        assert stored["id"] == stored["data"]["id"]
        source.push(chat(2, "live"), stream_end())
        live = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert live["data"]["message"] == "live"
        control = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert control["data"]["type"] == "control"
        status = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert status == {
            "kind": "status",
            "id": None,
            "data": {"status": "ended", "reason": "ended_by_host"},
        }
        with pytest.raises(websockets.ConnectionClosedOK):
            await asyncio.wait_for(ws.recv(), 5)

    with pytest.raises(websockets.InvalidStatus) as rejected:
        async with websockets.connect(url, additional_headers=bob.headers):
            pass
    assert rejected.value.response.status_code == 403  # closed before accept: no data leaks
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(url):
            pass


async def test_replay_keeps_the_original_timing_scaled(
    client: httpx.AsyncClient, alice: Any, sources: FakeSources
) -> None:
    session_id = await start(client, alice)
    sources.source("demo_streamer").push(
        chat(1, "t0", at_ms=0), chat(1, "t+1s", at_ms=1_000), like(1, 2, at_ms=2_000)
    )
    await wait_stored(client, alice, session_id, 3)
    path = f"/api/sessions/{session_id}/replay"
    started = time.monotonic()
    async with sse(client, path, alice.headers, speed=20) as events:
        got = [e async for e in events if e.comment is None]
    elapsed = time.monotonic() - started
    assert [e.json()["message"] for e in got[:-1]] == ["t0", "t+1s", None]
    assert got[-1].event == "end"
    assert 0.1 <= elapsed < 2.0  # 2 s of events at 20x = 0.1 s
    only_chat = []
    async with sse(client, path, alice.headers, speed=50, type="chat") as events:
        only_chat = [e.json()["type"] for e in [e async for e in events if e.comment is None][:-1]]
    assert only_chat == ["chat", "chat"]
    too_fast = await client.get(path, params={"speed": 51}, headers=alice.headers)
    assert too_fast.status_code == 422


async def test_browsers_authenticate_streams_with_an_access_token_parameter(
    client: httpx.AsyncClient, alice: Any, sources: FakeSources
) -> None:
    """EventSource, WebSocket and download links cannot send headers."""
    session_id = await start(client, alice)
    token = alice.tokens["access_token"]
    path = f"/api/sessions/{session_id}/stream"
    async with sse(client, path, {}, access_token=token) as events:
        assert (await take(events, 1))[0].event == "session"
    assert (await client.get(path, params={"access_token": "not-a-token"})).status_code == 401
    assert (await client.get(path)).status_code == 401
    export = await client.get(
        f"/api/sessions/{session_id}/export", params={"access_token": token, "format": "csv"}
    )
    assert export.status_code == 200
    url = str(client.base_url).replace("http", "ws") + f"/api/sessions/{session_id}/ws"
    async with websockets.connect(f"{url}?access_token={token}") as ws:
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["kind"] == "session"


@pytest.mark.parametrize("kind", ["stream", "replay"])
async def test_sse_ends_cleanly_with_a_reconnect_event_when_the_server_stops(
    settings: Settings, sources: FakeSources, kind: str
) -> None:
    """No stream is cut mid-chunk: each gets a last `reconnect` event (retry soon) and the
    chunked body's proper end, so clients come back at once and resume from their id."""
    from tests.auth.helpers import signed_in

    app = create_app(settings)
    app_state(app).provide(LiveSources(sources))
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    await eventually(lambda: server.started, within=10)
    lines: list[str] = []
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            alice = await signed_in(client, app)
            session_id = await start(client, alice)
            # A minute between the two: a replay at speed 1 is waiting when the server stops.
            sources.source("demo_streamer").push(chat(1, "first"), chat(2, "later", at_ms=60_000))
            await wait_stored(client, alice, session_id, 2)
            path = f"/api/sessions/{session_id}/{kind}"
            async with client.stream("GET", path, headers=alice.headers, timeout=10) as response:
                async for line in response.aiter_lines():  # raises if the body is cut
                    lines.append(line)
                    if line == "event: session" or line.startswith("id: "):
                        server.should_exit = True  # while the stream waits for more
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 15)
    assert lines[-4:-1] == ["event: reconnect", 'data: {"reason":"shutdown"}', "retry: 500"]
