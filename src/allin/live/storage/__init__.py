"""Event storage: records (`records`), the batched writer (`writer`) and its SQL (`sql`)."""

from allin.live.storage.records import (
    PUBLIC_COLUMNS,
    EventMapper,
    EventRecord,
    SessionTally,
    public_event,
)
from allin.live.storage.sql import recount
from allin.live.storage.writer import EventWriter, WriterClosedError

__all__ = [
    "PUBLIC_COLUMNS",
    "EventMapper",
    "EventRecord",
    "EventWriter",
    "SessionTally",
    "WriterClosedError",
    "public_event",
    "recount",
]
