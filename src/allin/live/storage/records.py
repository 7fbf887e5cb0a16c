"""What storage holds: event records (from typed events), a session's running totals, and the
public JSON shape of a stored event. Column names come from the tables, not from lists kept
beside them."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table

from allin.core.clock import utcnow
from allin.live.models import LiveEventRow, LiveSession
from allin.live.protocol import GiftEvent, LiveEvent, StreakCounter
from allin.live.protocol.models import Record, json_text

EVENTS = cast(Table, LiveEventRow.__table__)
SESSIONS = cast(Table, LiveSession.__table__)

# The columns an event record fills, in table order: all but the id the database assigns.
RECORD_COLUMNS = tuple(column.name for column in EVENTS.c if column.name != "id")


@dataclass(slots=True)
class EventRecord:
    """One event as stored: the queryable columns, the raw bytes and the processed JSON.

    The processed JSON is `data`, or, for a record mapped from a protocol event, rendered
    from that `source` event when needed (`processed()`, `processed_json()`): storage
    writes the text straight from the event, and the dict is only built for subscribers."""

    type: str
    created_at: datetime
    msg_id: int | None = None
    user_id: str | None = None
    unique_id: str | None = None
    nickname: str | None = None
    message: str | None = None
    gift_id: int | None = None
    gift_name: str | None = None
    diamonds: int = 0
    gift_count: int = 0
    repeat_count: int | None = None
    like_count: int = 0
    viewer_count: int | None = None
    raw: bytes | None = None
    data: dict[str, Any] = field(default_factory=dict)
    source: Record | None = field(default=None, repr=False, compare=False)

    def processed(self) -> dict[str, Any]:
        """The processed JSON (the stored `data` column)."""
        return self.data if self.source is None else self.source.to_dict()

    def processed_json(self) -> str:
        """`processed()` as compact JSON text, as stored on SQLite."""
        return json_text(self.data) if self.source is None else self.source.to_json()

    def row(self, session_id: uuid.UUID) -> dict[str, Any]:
        """The row's values by column name (every column but the id)."""
        return _record_row(self, session_id)


# A record field for every column (the session id comes with the batch): a column added to
# the table without a field here fails at import, not at the first INSERT.
_UNFILLED = set(RECORD_COLUMNS) - {f.name for f in fields(EventRecord)} - {"session_id"}
if _UNFILLED:
    raise RuntimeError(f"EventRecord has no field for the columns {sorted(_UNFILLED)}")


def _generated(name: str, source: str, namespace: dict[str, Any]) -> Any:
    """The function `name` defined by `source`, made from the tables' column names and the
    constant expressions of this module only: one dict or tuple display per event instead
    of a loop over the columns, where the per-event cost counts (storage, fan-out, export)."""
    exec(source, namespace)  # noqa: S102
    return namespace[name]


_ROW_VALUES = {"session_id": "session_id", "data": "record.processed()"}
_record_row: Callable[[EventRecord, uuid.UUID], dict[str, Any]] = _generated(
    "row",
    "def row(record, session_id):\n    return {"
    + ", ".join(f"{n!r}: {_ROW_VALUES.get(n, f'record.{n}')}" for n in RECORD_COLUMNS)
    + "}\n",
    {},
)


# The columns an API client sees, in order (CSV header too); `raw` is served separately.
PUBLIC_COLUMNS = (
    "id",
    "session_id",
    "type",
    "timestamp",
    "msg_id",
    "user_id",
    "unique_id",
    "nickname",
    "message",
    "gift_id",
    "gift_name",
    "repeat_count",
    "gift_count",
    "diamonds",
    "like_count",
    "viewer_count",
    "data",
)
# How a public field is made from a row, where it is not the column of the same name.
# 64-bit ids are strings so JavaScript clients keep every digit.
_PUBLIC_VALUES = {
    "id": "event_id",
    "session_id": "str(values['session_id'])",
    "timestamp": "values['created_at'].isoformat()",
    "msg_id": "_id_text(values['msg_id'])",
    "gift_id": "_id_text(values['gift_id'])",
}


def _id_text(value: int | None) -> str | None:
    return None if value is None else str(value)


# The JSON shape of a stored event, from a row or from `EventRecord.row()`.
public_event: Callable[[int, Mapping[str, Any]], dict[str, Any]] = _generated(
    "public_event",
    "def public_event(event_id, values):\n    return {"
    + ", ".join(f"{n!r}: {_PUBLIC_VALUES.get(n, f'values[{n!r}]')}" for n in PUBLIC_COLUMNS)
    + "}\n",
    {"_id_text": _id_text},
)


@dataclass(slots=True)
class SessionTally:
    """A session's running totals (per-type counts, likes, diamonds, viewers); each field is
    the `live_sessions` column of the same name."""

    counters: dict[str, int] = field(default_factory=dict)
    total_events: int = 0
    total_likes: int = 0
    total_diamonds: int = 0
    peak_viewers: int = 0
    current_viewers: int = 0

    @classmethod
    def of(cls, session: LiveSession) -> SessionTally:
        values: dict[str, Any] = {name: getattr(session, name) or 0 for name in TALLY_FIELDS}
        values["counters"] = dict(session.counters or {})
        return cls(**values)

    def copy(self) -> SessionTally:
        return replace(self, counters=dict(self.counters))

    def add(self, record: EventRecord) -> None:
        self.counters[record.type] = self.counters.get(record.type, 0) + 1
        self.total_events += 1
        self.total_likes += record.like_count
        self.total_diamonds += record.diamonds
        if record.viewer_count is not None:
            self.current_viewers = record.viewer_count
            self.peak_viewers = max(self.peak_viewers, record.viewer_count)

    def values(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in TALLY_FIELDS}
        values["counters"] = dict(self.counters)
        return values


TALLY_FIELDS = tuple(f.name for f in fields(SessionTally))
_NOT_COLUMNS = set(TALLY_FIELDS) - set(SESSIONS.c.keys())
if _NOT_COLUMNS:
    raise RuntimeError(f"SessionTally fields without a live_sessions column: {_NOT_COLUMNS}")


# -- typed events -> records ------------------------------------------------------------------


class EventMapper:
    """Typed events -> stored records for one capture: drops repeated messages and counts
    each gift streak once (every event stores only the diamonds and items it adds).
    `memory` bounds what it remembers per capture (the LIVE client dedups too), so a
    thousand captures do not each hold tens of thousands of ids."""

    def __init__(self, *, store_raw: bool = True, memory: int = 512) -> None:
        self._store_raw = store_raw
        self._seen: OrderedDict[int, int] = OrderedDict()
        self._seen_size = memory
        self._streaks = StreakCounter(memory=memory)

    def record(self, event: LiveEvent) -> EventRecord | None:
        msg_id = event.msg_id
        if msg_id:
            seen = self._seen
            if msg_id in seen:
                return None
            seen[msg_id] = 0  # a new key: at the end already
            if len(seen) > self._seen_size:
                seen.popitem(last=False)
        user = event.user
        if user is None:
            user_id = unique_id = nickname = None
        else:
            user_id = str(user.user_id) if user.user_id else None
            unique_id, nickname = user.unique_id or None, user.nickname or None
        record = EventRecord(
            type=event.type,
            created_at=_event_time(event.create_time),
            msg_id=msg_id or None,
            user_id=user_id,
            unique_id=unique_id,
            nickname=nickname,
            message=_message(event),
            raw=(event.raw or None) if self._store_raw else None,
            source=event,  # its JSON is rendered when stored (and published)
        )
        if event.type in _AMOUNT_TYPES:
            self._add_amounts(event, record)
        return record

    def _add_amounts(self, event: LiveEvent, record: EventRecord) -> None:
        match event.type:
            case "gift":
                assert isinstance(event, GiftEvent)
                items = self._streaks.add(event)
                record.gift_id = event.gift_id or None
                record.gift_name = event.gift.name if event.gift is not None else None
                record.repeat_count = event.repeat_count
                record.gift_count = items
                record.diamonds = items * event.diamond_count
            case "like":
                record.like_count = max(0, getattr(event, "count", 0))
            case "room_user":
                record.viewer_count = max(0, getattr(event, "viewer_count", 0))


_AMOUNT_TYPES = frozenset({"gift", "like", "room_user"})


def _event_time(create_time_ms: int) -> datetime:
    if create_time_ms > 0:
        return datetime.fromtimestamp(create_time_ms / 1000, UTC)
    return utcnow()


_MESSAGE_ATTRIBUTES = {
    "chat": "content",
    "question": "content",
    "caption": "text",
    "poll": "title",
    "goal": "description",
    "control": "tips",
}


def _message(event: LiveEvent) -> str | None:
    name = _MESSAGE_ATTRIBUTES.get(event.type)
    value = getattr(event, name, None) if name else None
    return value or None
