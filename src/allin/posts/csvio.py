"""CSV export and import of posts: one row per post, accounts space-separated, the time as
a wall time in the row's zone."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable
from datetime import datetime

from pydantic import ValidationError as PydanticValidationError

from allin.core.errors import AppError
from allin.posts.errors import CsvImportError
from allin.posts.models import Post, PostTarget
from allin.posts.scheduling import to_local
from allin.posts.schemas import PostIn, ScheduleIn

COLUMNS = ("content", "account_ids", "local_time", "timezone", "status", "post_id")
MAX_ROWS = 1000


def export(rows: Iterable[tuple[Post, list[PostTarget]]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for post, targets in rows:
        when = next((t.scheduled_at for t in targets if t.scheduled_at), None)
        local = to_local(when, post.timezone).replace(tzinfo=None).isoformat() if when else ""
        statuses = sorted({t.status for t in targets})
        writer.writerow(
            [
                _safe(post.content),
                " ".join(str(t.account_id) for t in targets),
                local,
                post.timezone,
                " ".join(statuses),
                str(post.id),
            ]
        )
    return out.getvalue()


def _safe(text: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading quote (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def parse(text: str) -> list[PostIn]:
    reader = csv.DictReader(io.StringIO(text))
    missing = {"content", "account_ids"} - set(reader.fieldnames or ())
    if missing:
        raise CsvImportError(f"Missing columns: {', '.join(sorted(missing))}")
    posts: list[PostIn] = []
    errors: list[dict[str, object]] = []
    for line, row in enumerate(reader, start=2):
        if len(posts) + len(errors) >= MAX_ROWS:
            raise CsvImportError(f"At most {MAX_ROWS} rows per import")
        try:
            posts.append(_row(row))
        except (ValueError, PydanticValidationError, AppError) as exc:
            errors.append({"line": line, "error": str(exc)})
    if errors:
        raise CsvImportError(details=errors)
    return posts


def _row(row: dict[str, str]) -> PostIn:
    local = (row.get("local_time") or "").strip()
    schedule = (
        ScheduleIn(mode="at", local_time=datetime.fromisoformat(local))
        if local
        else ScheduleIn(mode="draft")
    )
    return PostIn(
        content=row.get("content") or "",
        account_ids=[uuid.UUID(part) for part in (row.get("account_ids") or "").split()],
        timezone=(row.get("timezone") or "UTC").strip(),
        schedule=schedule,
    )
