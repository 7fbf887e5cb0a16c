"""The capture manager: many LIVE captures in one process, one per streamer per owner.

Each capture reads typed events from an `EventSource`, turns them into `EventRecord`s and
hands them to the batched writer. A stream end closes the session with its reason; a stop
or a shutdown is handled by the manager. Sessions carry the capturing node and a heartbeat
(`nodes`), so sessions of a node that died (or shut down) are resumed by the next node.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.core.clock import utcnow
from allin.core.errors import AppError, ConflictError, ServiceUnavailableError
from allin.core.logging import Category, get_logger
from allin.live.capture.nodes import CaptureNode
from allin.live.capture.sources import (
    EventSource,
    OpenedStream,
    SourceFactory,
    StreamerProfile,
    end_reason,
    is_gone,
)
from allin.live.hub import LocalHub, StatusChange
from allin.live.models import LiveSession, SessionStatus, Streamer
from allin.live.storage import EventMapper, EventWriter, SessionTally, recount

log = get_logger(Category.LIVE)


# -- errors ------------------------------------------------------------------------------------


class AlreadyCapturingError(ConflictError):
    code = "LIVE_ALREADY_CAPTURING"
    default_message = "You are already capturing this streamer"


class CaptureLimitError(ServiceUnavailableError):
    code = "LIVE_CAPTURE_LIMIT"
    default_message = "This server runs as many captures as it is allowed to"


# -- the manager -------------------------------------------------------------------------------


@dataclass(slots=True)
class CaptureConfig:
    max_captures: int = 1_000
    reconnect_attempts: int = 3
    reconnect_delay: float = 1.0
    store_raw: bool = True
    heartbeat_interval: float = 10.0
    stale_after: float = 45.0
    resume_window: float = 6 * 3600


@dataclass(slots=True, eq=False)
class _Capture:
    session_id: uuid.UUID
    owner_id: uuid.UUID
    username: str
    source: EventSource
    mapper: EventMapper
    task: asyncio.Task[None] | None = None
    stop_reason: str | None = None
    finishing: bool = False


SessionFactory = async_sessionmaker[AsyncSession]


class CaptureManager:
    def __init__(
        self,
        *,
        session_factory: SessionFactory,
        writer: EventWriter,
        hub: LocalHub,
        sources: SourceFactory,
        config: CaptureConfig | None = None,
        node_id: str | None = None,
    ) -> None:
        self._db = session_factory
        self._writer = writer
        self._hub = hub
        self.sources = sources
        self.config = config or CaptureConfig()
        self.node = CaptureNode(self, session_factory, self.config, node_id or uuid.uuid4().hex)
        self._captures: dict[uuid.UUID, _Capture] = {}
        self._keys: dict[tuple[uuid.UUID, str], uuid.UUID | None] = {}  # None = starting
        self._closing = False

    # -- public API --------------------------------------------------------------------------

    @property
    def node_id(self) -> str:
        return self.node.node_id

    @property
    def active_count(self) -> int:
        return len(self._captures)

    def running_sessions(self) -> list[uuid.UUID]:
        return list(self._captures)

    def has_room(self) -> bool:
        return not self._closing and len(self._keys) < self.config.max_captures

    def capturing(self, session_id: uuid.UUID) -> bool:
        return session_id in self._captures

    def session_for(self, owner_id: uuid.UUID, username: str) -> uuid.UUID | None:
        return self._keys.get((owner_id, username))

    async def start(self, owner_id: uuid.UUID, username: str) -> LiveSession:
        """Connects to `username`'s LIVE and starts a new session (raises if offline)."""
        key = (owner_id, username)
        if key in self._keys:
            existing = self._keys[key]
            raise AlreadyCapturingError(details={"session_id": str(existing) if existing else None})
        if not self.has_room():
            raise CaptureLimitError()
        self._keys[key] = None
        try:
            await self._check_not_captured_elsewhere(owner_id, username)
            opened = await self.sources.open(username)
            try:
                session = await self._create_session(owner_id, username, opened)
            except BaseException:
                await opened.source.close()
                raise
        except BaseException:
            self._keys.pop(key, None)
            raise
        self._launch(session, opened.source, SessionTally())
        log.info("capture started", session=str(session.id), streamer=username)
        return session

    async def stop(self, session_id: uuid.UUID, reason: str = "stopped_by_user") -> bool:
        """Ends a capture running here; False if this process does not run it."""
        capture = self._captures.get(session_id)
        if capture is None or capture.task is None:
            return False
        if not capture.finishing:
            capture.stop_reason = reason
            capture.task.cancel()
        await asyncio.gather(capture.task, return_exceptions=True)
        return True

    async def stop_owner(self, owner_id: uuid.UUID, reason: str) -> list[uuid.UUID]:
        """Ends every capture of this user running here (e.g. the account was suspended)."""
        ids = [c.session_id for c in self._captures.values() if c.owner_id == owner_id]
        for session_id in ids:
            await self.stop(session_id, reason=reason)
        return ids

    async def wait(self, session_id: uuid.UUID) -> None:
        """Returns when the capture of this session running here has finished (its events
        flushed and its status written); at once if there is none."""
        capture = self._captures.get(session_id)
        if capture is not None and capture.task is not None:
            await asyncio.wait({capture.task})  # never raises, nor cancels the capture

    async def start_background(self, *, adopt: bool = True) -> None:
        """Starts the heartbeat. `adopt=False` (the CLI recorder) keeps this process's
        sessions alive without taking over sessions other nodes left behind."""
        self.node.start(adopt=adopt)

    async def shutdown(self) -> None:
        """Stops every capture, makes its events durable and marks its session interrupted."""
        self._closing = True
        await self.node.stop()
        captures = list(self._captures.values())
        for capture in captures:
            if capture.task is not None and not capture.finishing:
                capture.task.cancel()
        await asyncio.gather(*(c.task for c in captures if c.task), return_exceptions=True)
        remaining = [c for c in captures if c.session_id in self._captures]
        if not remaining:
            return
        await self._writer.flush()
        ids = [c.session_id for c in remaining]
        await self._set_status(ids, SessionStatus.INTERRUPTED, "shutdown", ended=False)
        for capture in remaining:
            self._forget(capture)
            await self._hub.publish_status(
                capture.session_id, StatusChange(SessionStatus.INTERRUPTED.value, "shutdown")
            )
        log.info("captures interrupted for shutdown", count=len(remaining))

    async def resume(self) -> list[uuid.UUID]:
        """Adopts sessions a dead or stopped node left behind and reconnects them.
        Returns the sessions capturing again here."""
        return await self.node.resume()

    async def beat(self) -> None:
        """One heartbeat now (see `CaptureNode.beat`)."""
        await self.node.beat()

    # -- sessions in the database ------------------------------------------------------------

    async def _check_not_captured_elsewhere(self, owner_id: uuid.UUID, username: str) -> None:
        """Another API process may run this capture (its heartbeat is fresh)."""
        fresh = utcnow() - timedelta(seconds=self.config.stale_after)
        async with self._db() as db:
            existing = await db.scalar(
                select(LiveSession.id).where(
                    LiveSession.owner_id == owner_id,
                    LiveSession.streamer_username == username,
                    LiveSession.status == SessionStatus.ACTIVE.value,
                    LiveSession.heartbeat_at >= fresh,
                )
            )
        if existing is not None:
            raise AlreadyCapturingError(details={"session_id": str(existing)})

    async def _create_session(
        self, owner_id: uuid.UUID, username: str, opened: OpenedStream
    ) -> LiveSession:
        now = utcnow()
        async with self._db() as db:
            dialect = db.get_bind().dialect.name
            await db.execute(_upsert_streamer(dialect, username, opened.profile, now))
            session = LiveSession(
                owner_id=owner_id,
                streamer_username=username,
                room_id=opened.room_id,
                started_at=now,
                status=SessionStatus.ACTIVE.value,
                streamer_info=opened.profile.snapshot(),
                counters={},
                capture_node=self.node_id,
                heartbeat_at=now,
            )
            db.add(session)
            await db.commit()
            return session

    async def _set_status(
        self, ids: Iterable[uuid.UUID], status: SessionStatus, reason: str, *, ended: bool
    ) -> None:
        now = utcnow()
        values: dict[str, Any] = {"status": status.value, "end_reason": reason, "updated_at": now}
        values["ended_at"] = now if ended else None
        if not ended:
            values["heartbeat_at"] = now
        async with self._db() as db:
            await db.execute(
                update(LiveSession).where(LiveSession.id.in_(list(ids))).values(values)
            )
            await db.commit()

    def free_for(self, session: LiveSession) -> bool:
        """No capture of this owner and streamer runs or starts here."""
        return (session.owner_id, session.streamer_username) not in self._keys

    async def take_over(self, session: LiveSession) -> bool:
        """Reconnects a session this node has just claimed; ends it if the LIVE is over."""
        key = (session.owner_id, session.streamer_username)
        self._keys[key] = None
        try:
            opened = await self.sources.open(session.streamer_username)
        except Exception as exc:
            self._keys.pop(key, None)
            reason = "ended_while_down" if is_gone(exc) else "resume_failed"
            await self._set_status([session.id], SessionStatus.ENDED, reason, ended=True)
            await self._hub.publish_status(session.id, StatusChange(SessionStatus.ENDED, reason))
            log.info("session not resumed", session=str(session.id), reason=reason)
            return False
        async with self._db() as db:  # the row's totals may lag the events after a crash
            tally = await recount(await db.connection(), session.id)
        self._launch(session, opened.source, tally, recounted=True)
        await self._hub.publish_status(session.id, StatusChange(SessionStatus.ACTIVE, "resumed"))
        log.info("capture resumed", session=str(session.id), streamer=session.streamer_username)
        return True

    # -- running captures --------------------------------------------------------------------

    def _launch(
        self,
        session: LiveSession,
        source: EventSource,
        tally: SessionTally,
        *,
        recounted: bool = False,
    ) -> None:
        capture = _Capture(
            session_id=session.id,
            owner_id=session.owner_id,
            username=session.streamer_username,
            source=source,
            mapper=EventMapper(store_raw=self.config.store_raw),
        )
        self._writer.track(session.id, tally, dirty=recounted)
        self._captures[session.id] = capture
        self._keys[(capture.owner_id, capture.username)] = session.id
        capture.task = asyncio.create_task(self._run(capture), name=f"live-capture-{session.id}")

    async def _run(self, capture: _Capture) -> None:
        try:
            reason = await self._pump(capture)
        except asyncio.CancelledError:
            if capture.stop_reason is None:
                raise  # the manager is shutting down: shutdown() records the interruption
            reason = capture.stop_reason
        except Exception as exc:
            log.error("capture failed", session=str(capture.session_id), error=repr(exc))
            reason = "error"
        capture.finishing = True
        await self._finish(capture, reason)

    async def _pump(self, capture: _Capture) -> str:
        """Reads events until the stream ends; reconnects a failed source a few times."""
        failures = 0
        while True:
            try:
                to_record, offer = capture.mapper.record, self._writer.offer
                session_id = capture.session_id
                async for event in capture.source.events():
                    failures = 0
                    record = to_record(event)
                    if record is not None and not offer(session_id, record):
                        await self._writer.submit(session_id, record)  # waits for room
                    reason = end_reason(event)
                    if reason is not None:
                        return reason
                return getattr(capture.source, "end_reason", None) or "stream_ended"
            except Exception as exc:
                if is_gone(exc):
                    return "stream_ended"
                failures += 1
                if failures > self.config.reconnect_attempts:
                    raise
                log.warning(
                    "capture source failed", session=str(capture.session_id), error=repr(exc)
                )
            finally:
                await _close_quietly(capture.source)
            await asyncio.sleep(self.config.reconnect_delay * failures)
            try:
                capture.source = (await self.sources.open(capture.username)).source
            except AppError as exc:
                if is_gone(exc):
                    return "stream_ended"
                raise

    async def _finish(self, capture: _Capture, reason: str) -> None:
        await _close_quietly(capture.source)
        await self._writer.flush()
        await self._set_status([capture.session_id], SessionStatus.ENDED, reason, ended=True)
        self._forget(capture)
        await self._hub.publish_status(
            capture.session_id, StatusChange(SessionStatus.ENDED.value, reason)
        )
        log.info("capture ended", session=str(capture.session_id), reason=reason)

    def _forget(self, capture: _Capture) -> None:
        self._captures.pop(capture.session_id, None)
        self._keys.pop((capture.owner_id, capture.username), None)
        self._writer.forget(capture.session_id)


_PROFILE_FIELDS = ("user_id", "display_name", "follower_count", "bio", "avatar_url")


def _upsert_streamer(dialect: str, username: str, profile: StreamerProfile, now: datetime) -> Any:
    """Insert or refresh the profile and count the session, atomically (two users may start
    capturing the same streamer at the same moment)."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    known = {name: getattr(profile, name) for name in _PROFILE_FIELDS}
    statement = insert(Streamer).values(
        username=username,
        total_sessions=1,
        last_live_at=now,
        created_at=now,
        updated_at=now,
        **known,
    )
    changes: dict[str, Any] = {k: v for k, v in known.items() if v is not None}
    changes.update(total_sessions=Streamer.total_sessions + 1, last_live_at=now, updated_at=now)
    return statement.on_conflict_do_update(index_elements=[Streamer.username], set_=changes)


async def _close_quietly(source: EventSource) -> None:
    try:
        await source.close()
    except Exception as exc:
        log.debug("closing a source failed", error=repr(exc))
