"""Session export as JSON, NDJSON or CSV, streamed in constant memory.

Events are read in keyset pages (`id > last ORDER BY id LIMIT n`), each page on a short-lived
connection so a long download never holds a read transaction open, and every page is encoded
and yielded before the next one is read.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncEngine

from allin.live.models import LiveEventRow
from allin.live.storage import PUBLIC_COLUMNS, public_event

ExportFormat = Literal["json", "ndjson", "csv"]
MEDIA_TYPES: dict[str, str] = {
    "json": "application/json",
    "ndjson": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
}
E = LiveEventRow
_COLUMNS = [getattr(E, name) for name in PUBLIC_COLUMNS if name not in ("timestamp",)] + [
    E.created_at
]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _page_query(session_id: uuid.UUID, after: int, size: int, raw: bool) -> Select[Any]:
    columns = [*_COLUMNS, E.raw] if raw else _COLUMNS
    return (
        select(*columns).where(E.session_id == session_id, E.id > after).order_by(E.id).limit(size)
    )


async def iter_events(
    engine: AsyncEngine, session_id: uuid.UUID, *, raw: bool = False, page_size: int = 2_000
) -> AsyncIterator[list[dict[str, Any]]]:
    """The session's events in id order, one page at a time (public shape, +raw_b64)."""
    after = 0
    while True:
        async with engine.connect() as conn:
            rows = (await conn.execute(_page_query(session_id, after, page_size, raw))).mappings()
            page = [_export_event(row, raw) for row in rows]
        if not page:
            return
        yield page
        after = page[-1]["id"]
        if len(page) < page_size:
            return


def _export_event(row: Any, raw: bool) -> dict[str, Any]:
    event = public_event(row["id"], row)
    if raw:
        value = row["raw"]
        event["raw_b64"] = base64.b64encode(value).decode("ascii") if value else None
    return event


async def export_stream(
    engine: AsyncEngine,
    session_id: uuid.UUID,
    fmt: ExportFormat,
    *,
    session: dict[str, Any],
    raw: bool = False,
    page_size: int = 2_000,
    progress: Callable[[int], None] | None = None,
) -> AsyncIterator[bytes]:
    """The export body, chunk by chunk (one chunk per page of events). `progress` hears
    how many events each page held once that page's chunk has been taken (a progress bar)."""
    pages = iter_events(engine, session_id, raw=raw, page_size=page_size)
    if progress is not None:
        pages = _counted(pages, progress)
    encoders: dict[str, Callable[[], AsyncIterator[str]]] = {
        "json": lambda: _json(pages, session),
        "ndjson": lambda: _ndjson(pages),
        "csv": lambda: _csv(pages, raw),
    }
    async for text in encoders[fmt]():
        yield text.encode("utf-8")


async def _counted(
    pages: AsyncIterator[list[dict[str, Any]]], progress: Callable[[int], None]
) -> AsyncIterator[list[dict[str, Any]]]:
    async for page in pages:
        count = len(page)  # the encoders may change the page's events in place
        yield page
        progress(count)


async def _json(
    pages: AsyncIterator[list[dict[str, Any]]], session: dict[str, Any]
) -> AsyncIterator[str]:
    yield '{"session":' + _dumps(session) + ',"events":['
    first = True
    async for page in pages:
        body = ",\n".join(_dumps(event) for event in page)
        yield ("\n" if first else ",\n") + body
        first = False
    yield "\n]}\n"


async def _ndjson(pages: AsyncIterator[list[dict[str, Any]]]) -> AsyncIterator[str]:
    async for page in pages:
        yield "".join(_dumps(event) + "\n" for event in page)


async def _csv(pages: AsyncIterator[list[dict[str, Any]]], raw: bool) -> AsyncIterator[str]:
    header = [*PUBLIC_COLUMNS, "raw_b64"] if raw else list(PUBLIC_COLUMNS)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    yield buffer.getvalue()
    async for page in pages:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for event in page:
            event["data"] = _dumps(event["data"])
            writer.writerow(_csv_value(event.get(name)) for name in header)
        yield buffer.getvalue()


def _csv_value(value: Any) -> Any:
    return "" if value is None else value


def export_filename(session_id: uuid.UUID, fmt: ExportFormat) -> str:
    return f"live-session-{session_id}.{fmt}"
