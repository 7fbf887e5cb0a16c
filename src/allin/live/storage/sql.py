"""The SQL of event storage, per database: batched INSERTs of events, the sessions' totals,
and recounting them. SQLite's hot path binds values by hand; every column list is the
table's own (`RECORD_COLUMNS`, `TALLY_FIELDS`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any, cast

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from allin.core.clock import utcnow
from allin.live.protocol.models import json_text
from allin.live.storage.records import (
    EVENTS,
    RECORD_COLUMNS,
    SESSIONS,
    TALLY_FIELDS,
    EventRecord,
    SessionTally,
)

Pending = tuple[uuid.UUID, EventRecord]

SQLITE_WRITER_CACHE_KB = 64 * 1024
# SQLite binds at most 32766 parameters per statement; one batch must fit in one INSERT.
SQLITE_MAX_PARAMETERS = 32_766
_SQLITE_MAX_ROWID = 2**63 - 1


def max_batch_rows(dialect: str) -> int:
    return SQLITE_MAX_PARAMETERS // len(EVENTS.c) if dialect == "sqlite" else 10_000


async def insert_returning_ids(conn: AsyncConnection, batch: list[Pending]) -> list[int]:
    """One multi-row INSERT; the ids in the order of `batch`.

    PostgreSQL: `INSERT ... RETURNING id`, SQLAlchemy orders the RETURNING rows by a
    sentinel (INSERT ... SELECT ... ORDER BY). SQLite: no RETURNING (its rows cost about
    0.7 µs per event to produce and read back). An INTEGER PRIMARY KEY without AUTOINCREMENT
    gets max(rowid) + 1 for each row in VALUES order, and one statement holds the database's
    single write lock from its first row to its last, so no other connection or process
    can insert between them: the ids are the `len(batch)` integers ending at the statement's
    last rowid. SQLite falls back to random rowids only once the largest possible rowid is
    taken; that is refused rather than mis-paired."""
    if not batch:
        return []
    if conn.dialect.name == "sqlite":
        result = await conn.exec_driver_sql(_sqlite_insert(len(batch)), _sqlite_values(batch))
        last = result.lastrowid
        if last is None or last >= _SQLITE_MAX_ROWID - len(batch):
            raise RuntimeError("SQLite event ids are near the largest rowid")
        return list(range(last - len(batch) + 1, last + 1))
    rows = [record.row(session_id) for session_id, record in batch]
    statement = insert(EVENTS).returning(EVENTS.c.id, sort_by_parameter_order=True)
    options = {"insertmanyvalues_page_size": len(rows)}
    result = await conn.execute(statement, rows, execution_options=options)
    return [row[0] for row in result]


# SQLite's hot path skips SQLAlchemy's per-value processing (a third of the write cost) and
# binds what SQLAlchemy would have stored: UUIDs as 32 hex digits, datetimes as
# 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC), JSON as text. Rows read back through the models.


@lru_cache(maxsize=16)
def _sqlite_insert(count: int) -> str:
    one = "(" + ",".join("?" * len(RECORD_COLUMNS)) + ")"
    columns = ", ".join(RECORD_COLUMNS)
    values = ",".join([one] * count)
    # Only constant column names and placeholders: nothing from outside reaches the SQL.
    return f"INSERT INTO live_events ({columns}) VALUES {values}"  # noqa: S608


# How each column's value is bound on SQLite, where it is not the record's attribute.
_SQLITE_VALUES = {
    "session_id": "session_hex",
    "created_at": "to_text(r.created_at)",
    "data": "(json_text(r.data) if r.source is None else r.source.to_json())",
}
_SQLITE_VALUES_SOURCE = """\
def sqlite_values(batch):
    values = []
    extend = values.extend
    session = None
    session_hex = ""
    for session_id, r in batch:
        if session_id is not session:  # events come in runs per stream: hex once per run
            session, session_hex = session_id, session_id.hex
        extend(({row},))
    return tuple(values)
"""


def _sqlite_values_function() -> Callable[[Sequence[Pending]], tuple[Any, ...]]:
    """The parameters of `_sqlite_insert`, generated from the table's columns as one loop
    with one tuple display per row (the per-event cost of binding is most of SQLite's
    write path). Only the constant expressions above reach the generated source."""
    row = ", ".join(_SQLITE_VALUES.get(name, f"r.{name}") for name in RECORD_COLUMNS)
    namespace: dict[str, Any] = {"to_text": _sqlite_datetime, "json_text": json_text}
    exec(_SQLITE_VALUES_SOURCE.format(row=row), namespace)  # noqa: S102
    return cast(Callable[[Sequence[Pending]], tuple[Any, ...]], namespace["sqlite_values"])


# The last whole second converted and its text: isoformat() with a timespec costs 0.7 µs,
# most of an event's binding, and events of one second share it.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_last_second: list[tuple[datetime, str]] = [(_EPOCH, "1970-01-01 00:00:00")]


def _sqlite_datetime(value: datetime) -> str:
    """'YYYY-MM-DD HH:MM:SS.ffffff' in UTC, as SQLAlchemy stores a DATETIME on SQLite."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    second, text = _last_second[0]
    since = value - second
    if since.days or since.seconds:  # not within the cached second
        second = value.replace(microsecond=0)
        text = second.isoformat(" ")[:19]
        _last_second[0] = (second, text)  # one assignment: a pair always consistent
    return f"{text}.{value.microsecond:06d}"


_sqlite_values = _sqlite_values_function()


async def recount(conn: AsyncConnection, session_id: uuid.UUID) -> SessionTally:
    """A session's totals from its stored events (after a crash the row may lag)."""
    where = EVENTS.c.session_id == session_id
    by_type = await conn.execute(
        select(EVENTS.c.type, func.count()).where(where).group_by(EVENTS.c.type)
    )
    sums = (
        await conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(EVENTS.c.like_count), 0),
                func.coalesce(func.sum(EVENTS.c.diamonds), 0),
                func.coalesce(func.max(EVENTS.c.viewer_count), 0),
            ).where(where)
        )
    ).one()
    current = await conn.scalar(
        select(EVENTS.c.viewer_count)
        .where(where, EVENTS.c.viewer_count.is_not(None))
        .order_by(EVENTS.c.id.desc())
        .limit(1)
    )
    return SessionTally(
        counters={kind: int(n) for kind, n in by_type.all()},
        total_events=int(sums[0]),
        total_likes=int(sums[1]),
        total_diamonds=int(sums[2]),
        peak_viewers=int(sums[3]),
        current_viewers=int(current or 0),
    )


# A tally's columns, then the liveness stamps written with it.
_TALLY_COLUMNS = (*TALLY_FIELDS, "heartbeat_at", "updated_at")
# One statement for every session a batch touched (executemany), not one UPDATE each:
# with 1,000 streams a batch touches hundreds of sessions.
_UPDATE_TALLIES = (
    update(SESSIONS)
    .where(SESSIONS.c.id == bindparam("t_id"))
    .values({name: bindparam(f"t_{name}") for name in _TALLY_COLUMNS})
)


# SQLite: the same UPDATE bound by hand like the events' INSERT (ids as 32 hex digits, UTC
# datetimes as text, JSON as text); SQLAlchemy's per-row processing cost more than SQLite's
# work with a thousand sessions. Only constant names and placeholders in the SQL.
_SQLITE_UPDATE_TALLIES = (
    "UPDATE live_sessions SET "  # noqa: S608
    + ", ".join(f"{name} = ?" for name in _TALLY_COLUMNS)
    + " WHERE id = ?"
)
_tally_values = attrgetter(*TALLY_FIELDS)
_COUNTERS = TALLY_FIELDS.index("counters")  # the one JSON column


async def update_sessions(conn: AsyncConnection, tallies: dict[uuid.UUID, SessionTally]) -> None:
    """Writes the sessions' totals (and their heartbeat) in one statement."""
    if not tallies:
        return
    now = utcnow()
    if conn.dialect.name == "sqlite":
        stamp = _sqlite_datetime(now)
        rows = []
        for session_id, tally in tallies.items():
            values: list[Any] = list(_tally_values(tally))
            values[_COUNTERS] = json_text(tally.counters)
            rows.append((*values, stamp, stamp, session_id.hex))
        await conn.exec_driver_sql(_SQLITE_UPDATE_TALLIES, rows)
        return
    params = []
    for session_id, tally in tallies.items():
        values_by_name = {**tally.values(), "heartbeat_at": now, "updated_at": now}
        params.append({"t_id": session_id, **{f"t_{k}": v for k, v in values_by_name.items()}})
    await conn.execute(_UPDATE_TALLIES, params)
