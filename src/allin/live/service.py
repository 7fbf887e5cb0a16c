"""The LIVE service: wires writer, hub, capture manager and watcher, and answers queries.

`LiveService` is created when the LIVE domain starts (`live/domain.py`) and kept in the
app state's registry. Query helpers take the request's database session; the streaming ones
(`follow_session`, `replay_session`) open their own short connections because they outlive
the request handler.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from allin.core.clock import utcnow
from allin.core.config import Settings
from allin.core.deps import after_commit
from allin.core.errors import NotFoundError
from allin.core.health import ServiceHealth, Status
from allin.core.logging import Category, get_logger
from allin.live.capture import CaptureConfig, CaptureManager, ClientSources, SourceFactory
from allin.live.export import iter_events
from allin.live.hub import LocalHub, StatusChange, Subscription, create_hub
from allin.live.models import LiveEventRow, LiveSession, SessionStatus, Streamer, WatchlistEntry
from allin.live.storage import EventWriter, public_event
from allin.live.watchlist import Watcher

log = get_logger(Category.LIVE)
E = LiveEventRow


def default_sources(settings: Settings) -> SourceFactory:
    return ClientSources.from_settings(settings)


class LiveService:
    """Everything LIVE in one process."""

    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        session_factory: async_sessionmaker[AsyncSession],
        sources: SourceFactory,
        *,
        hub: LocalHub | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.session_factory = session_factory
        self.hub = hub or create_hub(
            settings.redis_url,
            queue_size=settings.live_subscriber_queue,
            prefix=settings.redis_key_prefix,
        )
        self.writer = EventWriter(
            engine,
            batch_size=settings.live_batch_size,
            flush_interval=settings.live_flush_interval,
            max_pending=settings.live_max_pending,
            tally_interval=settings.live_tally_interval,
            on_stored=self.hub.publish,
            wants=self.hub.wants,
        )
        self.captures = CaptureManager(
            session_factory=session_factory,
            writer=self.writer,
            hub=self.hub,
            sources=sources,
            config=CaptureConfig(
                max_captures=settings.live_max_captures,
                reconnect_attempts=settings.live_reconnect_attempts,
                store_raw=settings.live_store_raw,
                heartbeat_interval=settings.live_node_heartbeat,
                stale_after=settings.live_stale_after,
                resume_window=settings.live_resume_window,
            ),
            node_id=self.hub.node_id,
        )
        self.watcher = Watcher(
            session_factory=session_factory,
            captures=self.captures,
            interval=settings.live_watch_interval,
            jitter=settings.live_watch_jitter,
        )
        self.resumed: asyncio.Task[list[uuid.UUID]] | None = None

    async def start(self, *, adopt: bool = True) -> None:
        """`adopt=False` (`allin live record`) captures only what this process starts:
        no resuming other nodes' sessions and no watchlist, which belong to the server."""
        await self.hub.start()
        self.writer.start()
        if adopt and self.settings.live_resume_on_startup:
            # Reconnecting many streams takes a while: do not hold up start-up.
            self.resumed = asyncio.create_task(self.captures.resume(), name="live-resume")
        await self.captures.start_background(adopt=adopt)
        if adopt:
            self.watcher.start()

    async def stop(self) -> None:
        await self.watcher.stop()
        if self.resumed is not None and not self.resumed.done():
            self.resumed.cancel()
            await asyncio.gather(self.resumed, return_exceptions=True)
        await self.captures.shutdown()
        await self.writer.close()
        await self.hub.close()

    async def health(self) -> ServiceHealth:
        """Degraded when the writer stopped or events pile up (the database is too slow)."""
        info = {
            "captures": self.captures.active_count,
            "pending_events": self.writer.pending,
            "subscribers": self.hub.subscriber_count(),
            "node": self.captures.node_id,
        }
        if not self.writer.running:
            return ServiceHealth(Status.UNHEALTHY, detail="event writer stopped", info=info)
        if self.writer.pending > self.settings.live_max_pending // 2:
            return ServiceHealth(Status.DEGRADED, detail="events are queueing", info=info)
        return ServiceHealth(Status.HEALTHY, info=info)

    async def end_session(self, db: AsyncSession, session: LiveSession) -> LiveSession:
        """DELETE: stops the capture (here or, via the database, on its node)."""
        if await self.captures.stop(session.id, reason="stopped_by_user"):
            await db.refresh(session)
            return session
        if session.status != SessionStatus.ENDED.value:
            now = utcnow()
            session.status = SessionStatus.ENDED.value
            session.end_reason = "stopped_by_user"
            session.ended_at = now
            await db.flush()
            # Streams hear of it once it is committed (their next read must agree).
            change = StatusChange(SessionStatus.ENDED.value, "stopped_by_user")
            after_commit(
                db, "live-session-ended", lambda: self.hub.publish_status(session.id, change)
            )
        return session


# -- sessions ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionFilter:
    status: str | None = None
    streamer: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def list_sessions(
    db: AsyncSession, owner_id: uuid.UUID | None, filters: SessionFilter, *, page: int, limit: int
) -> tuple[Sequence[LiveSession], int]:
    """One page of sessions, newest first; `owner_id=None` (the operator's CLI) lists
    every owner's."""
    conditions: list[Any] = [] if owner_id is None else [LiveSession.owner_id == owner_id]
    if filters.status:
        conditions.append(LiveSession.status == filters.status)
    if filters.streamer:
        conditions.append(LiveSession.streamer_username.contains(filters.streamer, autoescape=True))
    if filters.since:
        conditions.append(LiveSession.started_at >= filters.since)
    if filters.until:
        conditions.append(LiveSession.started_at < filters.until)
    total = await db.scalar(select(func.count()).select_from(LiveSession).where(*conditions))
    rows = await db.scalars(
        select(LiveSession)
        .where(*conditions)
        .order_by(LiveSession.started_at.desc(), LiveSession.id)
        .offset((page - 1) * limit)
        .limit(limit)
    )
    return rows.all(), int(total or 0)


# -- events ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Event filters. `user_ids` comes from `resolve_user` (an id or an @handle)."""

    types: frozenset[str] | None = None
    user_ids: tuple[str, ...] | None = None
    q: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, statement: Select[Any]) -> Select[Any]:
        if self.types:
            statement = statement.where(E.type.in_(sorted(self.types)))
        if self.user_ids is not None:
            statement = statement.where(E.user_id.in_(self.user_ids))
        if self.q:
            statement = statement.where(E.message.icontains(self.q, autoescape=True))
        if self.since:
            statement = statement.where(E.created_at >= self.since)
        if self.until:
            statement = statement.where(E.created_at < self.until)
        return statement

    def matches(self, event: dict[str, Any]) -> bool:
        """For live events: only the type filter applies to streams."""
        return not self.types or event["type"] in self.types


async def resolve_user(db: AsyncSession, session_id: uuid.UUID, user: str) -> tuple[str, ...]:
    """The user ids meant by `user`: a numeric id, and/or the id behind an @handle seen in
    this session (one lookup, so the @handle column needs no index)."""
    handle = user.removeprefix("@").lower()
    ids = [user] if user.isdigit() else []
    found = await db.scalar(
        select(E.user_id)
        .where(E.session_id == session_id, E.unique_id == handle, E.user_id.is_not(None))
        .limit(1)
    )
    if found is not None and found not in ids:
        ids.append(found)
    return tuple(ids)


_EVENT_COLUMNS = (
    E.id,
    E.session_id,
    E.type,
    E.msg_id,
    E.user_id,
    E.unique_id,
    E.nickname,
    E.message,
    E.gift_id,
    E.gift_name,
    E.diamonds,
    E.gift_count,
    E.repeat_count,
    E.like_count,
    E.viewer_count,
    E.created_at,
    E.data,
)


async def query_events(
    db: AsyncSession,
    session_id: uuid.UUID,
    filters: EventFilter,
    *,
    cursor: int | None,
    limit: int,
    order: Literal["asc", "desc"] = "asc",
) -> tuple[list[dict[str, Any]], int | None]:
    """One page of events and the cursor of the next page (None at the end)."""
    statement = filters.apply(select(*_EVENT_COLUMNS).where(E.session_id == session_id))
    if order == "asc":
        if cursor is not None:
            statement = statement.where(E.id > cursor)
        statement = statement.order_by(E.id.asc())
    else:
        if cursor is not None:
            statement = statement.where(E.id < cursor)
        statement = statement.order_by(E.id.desc())
    rows = (await db.execute(statement.limit(limit + 1))).mappings().all()
    events = [public_event(row["id"], row) for row in rows[:limit]]
    next_cursor = events[-1]["id"] if len(rows) > limit else None
    return events, next_cursor


async def event_raw(db: AsyncSession, session_id: uuid.UUID, event_id: int) -> bytes:
    raw = await db.scalar(select(E.raw).where(E.session_id == session_id, E.id == event_id))
    exists = raw is not None or await db.scalar(
        select(E.id).where(E.session_id == session_id, E.id == event_id)
    )
    if not exists:
        raise NotFoundError("No such event")
    return raw or b""


# -- streamers ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamerStats:
    streamer: Streamer
    sessions: int
    capturing: bool


def _streamer_stats_query(owner_id: uuid.UUID) -> Select[Streamer, int, Any]:
    active = func.sum(case((LiveSession.status == SessionStatus.ACTIVE.value, 1), else_=0))
    return (
        select(Streamer, func.count(LiveSession.id), active)
        .join(LiveSession, LiveSession.streamer_username == Streamer.username)
        .where(LiveSession.owner_id == owner_id)
        .group_by(Streamer.username)
    )


async def list_streamers(
    db: AsyncSession, owner_id: uuid.UUID, *, q: str | None, page: int, limit: int
) -> tuple[list[StreamerStats], int]:
    """The streamers this user has captured, most recently live first."""
    statement = _streamer_stats_query(owner_id)
    if q:
        statement = statement.where(
            or_(
                Streamer.username.contains(q.lower(), autoescape=True),
                Streamer.display_name.icontains(q, autoescape=True),
            )
        )
    total = await db.scalar(select(func.count()).select_from(statement.subquery()))
    rows = await db.execute(
        statement.order_by(Streamer.last_live_at.desc(), Streamer.username)
        .offset((page - 1) * limit)
        .limit(limit)
    )
    stats = [StreamerStats(s, int(n), bool(active)) for s, n, active in rows.all()]
    return stats, int(total or 0)


async def get_streamer(
    db: AsyncSession, owner_id: uuid.UUID, username: str
) -> tuple[StreamerStats, Sequence[LiveSession]]:
    """A streamer this user has captured or watches (others are 404: no one learns who
    else is being captured)."""
    row = (
        await db.execute(_streamer_stats_query(owner_id).where(Streamer.username == username))
    ).first()
    if row is not None:
        stats = StreamerStats(row[0], int(row[1]), bool(row[2]))
    else:
        watched = await db.scalar(
            select(WatchlistEntry.id).where(
                WatchlistEntry.owner_id == owner_id, WatchlistEntry.username == username
            )
        )
        streamer = await db.get(Streamer, username)
        if watched is None or streamer is None:
            raise NotFoundError("No such streamer among your sessions")
        stats = StreamerStats(streamer, 0, False)
    recent = await db.scalars(
        select(LiveSession)
        .where(LiveSession.owner_id == owner_id, LiveSession.streamer_username == username)
        .order_by(LiveSession.started_at.desc())
        .limit(10)
    )
    return stats, recent.all()


# -- real time ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamItem:
    """What a stream sends: a stored `event` (with its id), a `status` change, or the
    `session` summary sent first."""

    kind: Literal["event", "status", "session"]
    data: dict[str, Any]
    id: int | None = None


async def _session_row(engine: AsyncEngine, session_id: uuid.UUID) -> LiveSession | None:
    async with AsyncSession(engine, expire_on_commit=False) as db:
        return await db.get(LiveSession, session_id)


async def _start_id(
    engine: AsyncEngine, session_id: uuid.UUID, filters: EventFilter, backlog: int
) -> int:
    """Where a stream without Last-Event-ID starts: just before the last `backlog` events."""
    statement = filters.apply(select(E.id).where(E.session_id == session_id))
    statement = statement.order_by(E.id.desc()).offset(backlog).limit(1)
    async with engine.connect() as conn:
        found = (await conn.execute(statement)).scalar()
    return int(found or 0)


async def _read_after(
    engine: AsyncEngine, session_id: uuid.UUID, filters: EventFilter, after: int, page: int = 500
) -> AsyncIterator[dict[str, Any]]:
    while True:
        statement = filters.apply(select(*_EVENT_COLUMNS).where(E.session_id == session_id))
        statement = statement.where(E.id > after).order_by(E.id).limit(page)
        async with engine.connect() as conn:
            rows = (await conn.execute(statement)).mappings().all()
        for row in rows:
            after = row["id"]
            yield public_event(row["id"], row)
        if len(rows) < page:
            return


async def follow_session(
    engine: AsyncEngine,
    hub: LocalHub,
    session_id: uuid.UUID,
    *,
    after: int | None,
    filters: EventFilter,
    backlog: int = 0,
) -> AsyncIterator[StreamItem]:
    """Stored events after `after`, then live ones, with no gap and no duplicate.

    Subscribe first, then read the database: an event committed before the subscription is
    in the database, one published after it is in the queue; ids seen twice are skipped.
    A lagged subscription re-reads the database from the last id it delivered."""
    async with hub.subscription(session_id) as sub:
        session = await _session_row(engine, session_id)
        if session is None:
            return
        if after is None:
            after = await _start_id(engine, session_id, filters, backlog)
        yield StreamItem("session", _summary(session))
        last = after
        async for event in _read_after(engine, session_id, filters, last):
            last = event["id"]
            yield StreamItem("event", event, last)
        if session.status == SessionStatus.ENDED.value:
            yield StreamItem("status", {"status": session.status, "reason": session.end_reason})
            return
        async for item in _live(engine, sub, session_id, filters, last):
            yield item


async def _live(
    engine: AsyncEngine,
    sub: Subscription,
    session_id: uuid.UUID,
    filters: EventFilter,
    last: int,
) -> AsyncIterator[StreamItem]:
    while True:
        if sub.lagged:
            sub.lagged = False
            async for event in _read_after(engine, session_id, filters, last):
                last = event["id"]
                yield StreamItem("event", event, last)
            ended = sub.status
            if ended is not None and ended.status == SessionStatus.ENDED.value:
                yield StreamItem("status", ended.to_dict())  # it may have been dropped
                return
        item = await sub.get()
        if isinstance(item, StatusChange):
            yield StreamItem("status", item.to_dict())
            if item.status == SessionStatus.ENDED.value:
                return
            continue
        for event in item:
            if event["id"] <= last:
                continue
            last = event["id"]
            if filters.matches(event):
                yield StreamItem("event", event, last)


def _summary(session: LiveSession) -> dict[str, Any]:
    return {
        "id": str(session.id),
        "streamer_username": session.streamer_username,
        "status": session.status,
        "end_reason": session.end_reason,
        "started_at": session.started_at.isoformat(),
        "counters": session.counters or {},
        "total_events": session.total_events or 0,
        "total_likes": session.total_likes or 0,
        "total_diamonds": session.total_diamonds or 0,
        "peak_viewers": session.peak_viewers or 0,
        "current_viewers": session.current_viewers or 0,
    }


async def replay_session(
    engine: AsyncEngine,
    session_id: uuid.UUID,
    *,
    speed: float,
    filters: EventFilter,
    max_gap: float | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """The recorded events again, spaced by their original timing divided by `speed`."""
    previous: datetime | None = None
    async for page in iter_events(engine, session_id):
        for event in page:
            if not filters.matches(event):
                continue
            moment = datetime.fromisoformat(event["timestamp"])
            if previous is not None:
                gap = max(0.0, (moment - previous).total_seconds()) / speed
                await asyncio.sleep(min(gap, max_gap) if max_gap is not None else gap)
            previous = moment
            yield event
