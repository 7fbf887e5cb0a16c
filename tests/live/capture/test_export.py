"""Export: json, ndjson and csv over HTTP, and constant memory however long the session."""

from __future__ import annotations

import base64
import csv
import io
import json
import tracemalloc
import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from allin.live.export import export_stream
from allin.live.models import LiveSession
from allin.live.storage import PUBLIC_COLUMNS, EventWriter, SessionTally
from tests.live.capture.support import FakeSources, chat, gift, like
from tests.live.capture.test_api import start, wait_stored
from tests.live.capture.test_storage import record


async def test_export_formats(client: httpx.AsyncClient, alice: Any, sources: FakeSources) -> None:
    session_id = await start(client, alice)
    events = [chat(1, 'say "hi", ok\nnew line'), gift(2, repeat=2), like(3, 9)]
    sources.source("demo_streamer").push(*events)
    await wait_stored(client, alice, session_id, 3)
    url = f"/api/sessions/{session_id}/export"

    as_json = await client.get(url, headers=alice.headers)
    assert as_json.status_code == 200
    assert as_json.headers["content-type"] == "application/json"
    disposition = as_json.headers["content-disposition"]
    assert disposition == f'attachment; filename="live-session-{session_id}.json"'
    body = as_json.json()
    assert body["session"]["id"] == session_id and body["session"]["total_events"] == 3
    assert [e["type"] for e in body["events"]] == ["chat", "gift", "like"]
    assert body["events"][0]["message"] == 'say "hi", ok\nnew line'
    assert "raw_b64" not in body["events"][0]

    with_raw = (await client.get(url, params={"raw": "true"}, headers=alice.headers)).json()
    assert base64.b64decode(with_raw["events"][0]["raw_b64"]) == events[0].raw

    ndjson = await client.get(url, params={"format": "ndjson"}, headers=alice.headers)
    assert ndjson.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in ndjson.text.splitlines()]
    assert lines == body["events"]

    as_csv = await client.get(url, params={"format": "csv"}, headers=alice.headers)
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert list(rows[0]) == list(PUBLIC_COLUMNS)
    assert rows[0]["message"] == 'say "hi", ok\nnew line'
    assert json.loads(rows[1]["data"])["repeat_count"] == 2
    assert rows[2]["like_count"] == "9" and rows[0]["gift_id"] == ""

    bad = await client.get(url, params={"format": "xml"}, headers=alice.headers)
    assert bad.status_code == 422


async def test_empty_session_exports_valid_documents(client: httpx.AsyncClient, alice: Any) -> None:
    session_id = await start(client, alice)
    url = f"/api/sessions/{session_id}/export"
    assert (await client.get(url, headers=alice.headers)).json()["events"] == []
    ndjson = await client.get(url, params={"format": "ndjson"}, headers=alice.headers)
    assert ndjson.text == ""
    as_csv = await client.get(url, params={"format": "csv"}, headers=alice.headers)
    assert as_csv.text.strip() == ",".join(PUBLIC_COLUMNS)


async def _fill(engine: AsyncEngine, session_id: uuid.UUID, count: int) -> None:
    writer = EventWriter(engine, batch_size=1000, flush_interval=0.01)
    writer.track(session_id, SessionTally())
    writer.start()
    try:
        for i in range(count):
            await writer.submit(session_id, record(i))
        await writer.flush()
    finally:
        await writer.close()


async def _export_peak(engine: AsyncEngine, session_id: uuid.UUID, fmt: Any) -> tuple[int, int]:
    """(bytes produced, peak bytes allocated while producing them)."""
    size = 0
    tracemalloc.start()
    try:
        async for chunk in export_stream(
            engine, session_id, fmt, session={"id": str(session_id)}, page_size=500
        ):
            size += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return size, peak


async def test_export_memory_does_not_grow_with_the_session(
    engine: AsyncEngine, session_row: LiveSession
) -> None:
    """A 1 M-event run is in benchmarks/; here 2 000 then 12 000 events: 6x the output,
    the same peak memory (one page at a time)."""
    await _fill(engine, session_row.id, 2_000)
    for fmt in ("json", "csv"):
        await _export_peak(engine, session_row.id, fmt)  # warm caches (compiled SQL, codecs)
    small = {fmt: await _export_peak(engine, session_row.id, fmt) for fmt in ("json", "csv")}
    await _fill(engine, session_row.id, 10_000)
    for fmt in ("json", "csv"):
        size, peak = await _export_peak(engine, session_row.id, fmt)
        small_size, small_peak = small[fmt]
        assert size > 5.5 * small_size
        assert peak < 1.5 * small_peak + 256 * 1024, (fmt, small_peak, peak)
        assert peak < 4 * 1024 * 1024


async def test_progress_hears_each_page_once_it_is_taken(
    engine: AsyncEngine, session_row: LiveSession
) -> None:
    await _fill(engine, session_row.id, 1_200)
    heard: list[int] = []
    seen_before_chunk: list[int] = []
    chunks = export_stream(
        engine, session_row.id, "ndjson", session={}, page_size=500, progress=heard.append
    )
    lines = 0
    async for chunk in chunks:
        seen_before_chunk.append(sum(heard))
        lines += chunk.count(b"\n")
    assert heard == [500, 500, 200] and lines == 1_200
    # A page is counted after its chunk was handed out, never before.
    assert seen_before_chunk == [0, 500, 1_000]
