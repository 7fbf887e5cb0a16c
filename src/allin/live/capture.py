"""The capture manager: many LIVE captures in one process, one per streamer per owner.

Each capture reads typed events from an `EventSource`, turns them into `EventRecord`s and
hands them to the batched writer. A stream end closes the session with its reason; a stop
or a shutdown is handled by the manager. Sessions carry the capturing node and a heartbeat,
so sessions of a node that died (or shut down) are resumed by the next node that starts.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.core.clock import utcnow
from allin.core.config import Settings
from allin.core.errors import AppError, ConflictError, ServiceUnavailableError
from allin.core.logging import Category, get_logger
from allin.live.client import LiveClient, LiveClientOptions
from allin.live.errors import UserNotFoundError, UserOfflineError
from allin.live.hub import LocalHub, StatusChange
from allin.live.models import LiveSession, SessionStatus, Streamer
from allin.live.protocol import ControlCode, ControlEvent, LiveEvent
from allin.live.storage import EventMapper, EventWriter, SessionTally, recount
from allin.live.web import OFFLINE_STATUS, TikTokWeb

log = get_logger(Category.LIVE)


# -- errors ------------------------------------------------------------------------------------


class AlreadyCapturingError(ConflictError):
    code = "LIVE_ALREADY_CAPTURING"
    default_message = "You are already capturing this streamer"


class CaptureLimitError(ServiceUnavailableError):
    code = "LIVE_CAPTURE_LIMIT"
    default_message = "This server runs as many captures as it is allowed to"


# The LIVE client's typed errors: "not live" (409) and "no such user" (404).
StreamerOfflineError = UserOfflineError
StreamerNotFoundError = UserNotFoundError
GONE_CODES = frozenset({UserOfflineError.code, UserNotFoundError.code})


def is_gone(exc: BaseException) -> bool:
    """The streamer is offline or does not exist (from any source's typed errors)."""
    return isinstance(exc, AppError) and exc.code in GONE_CODES


# -- sources -----------------------------------------------------------------------------------


class EventSource(Protocol):
    """A connected LIVE: its events until the stream ends (the iterator stops). A source may
    also have an `end_reason` attribute, read when the iterator stops."""

    def events(self) -> AsyncIterator[LiveEvent]: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class StreamerProfile:
    username: str
    user_id: str | None = None
    display_name: str | None = None
    follower_count: int | None = None
    bio: str | None = None
    avatar_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def snapshot(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "user_id": self.user_id,
            "display_name": self.display_name,
            "follower_count": self.follower_count,
            "bio": self.bio,
            "avatar_url": self.avatar_url,
            **self.extra,
        }


@dataclass(slots=True)
class OpenedStream:
    profile: StreamerProfile
    room_id: str | None
    source: EventSource


class SourceFactory(Protocol):
    """Connects to a streamer's LIVE. Raises StreamerOfflineError / StreamerNotFoundError."""

    async def open(self, username: str) -> OpenedStream: ...

    async def live_status(self, usernames: list[str]) -> dict[str, bool]: ...


def end_reason(event: LiveEvent) -> str | None:
    """The session's end reason if this event ends the stream."""
    if isinstance(event, ControlEvent) and event.code in (ControlCode.ENDED, ControlCode.SUSPENDED):
        return event.reason or "stream_ended"
    return None


# -- the real TikTok LIVE client as a source ----------------------------------------------


class ClientSource:
    """An EventSource over one `LiveClient` (which reconnects by itself)."""

    def __init__(self, client: LiveClient) -> None:
        self.client = client

    def events(self) -> AsyncIterator[LiveEvent]:
        return self.client.events()

    async def close(self) -> None:
        await self.client.close()

    @property
    def end_reason(self) -> str | None:
        return self.client.close_reason


class ClientSources:
    """Connects through TikTok (or the simulator, wherever the settings point): resolves the
    room and checks it is live *before* a session exists, so "offline" is a clear error."""

    def __init__(self, options: LiveClientOptions, *, concurrency: int = 8) -> None:
        self.options = options
        self._limit = asyncio.Semaphore(concurrency)

    @classmethod
    def from_settings(cls, settings: Settings) -> ClientSources:
        return cls(LiveClientOptions.from_settings(settings))

    def _web(self) -> TikTokWeb:
        o = self.options
        return TikTokWeb(
            web_url=o.web_url,
            webcast_url=o.webcast_url,
            profile=o.profile,
            timeout=o.timeout,
            verify=o.verify,
        )

    async def open(self, username: str) -> OpenedStream:
        async with self._limit, self._web() as web:
            room_id = await web.fetch_room_id(username)
            if not await web.check_alive(room_id):
                raise UserOfflineError(username)
            info = await web.fetch_room_info(room_id, username)
        if info.get("status") == OFFLINE_STATUS:
            raise UserOfflineError(username)
        # Already resolved and checked: the client skips straight to the sign provider.
        options = replace(self.options, room_id=room_id, fetch_room_info=False)
        client = LiveClient(username, options=options)
        return OpenedStream(profile_from_room(username, info), str(room_id), ClientSource(client))

    async def live_status(self, usernames: list[str]) -> dict[str, bool]:
        """TikTok has no bulk check by username: one room-id lookup each (a few at a time),
        then one check per room. Unknown users and failed checks are left out."""
        results = await asyncio.gather(*(self._is_live(name) for name in usernames))
        return {
            name: live for name, live in zip(usernames, results, strict=True) if live is not None
        }

    async def _is_live(self, username: str) -> bool | None:
        try:
            async with self._limit, self._web() as web:
                return await web.check_alive(await web.fetch_room_id(username))
        except UserOfflineError:
            return False
        except AppError:
            return None


def profile_from_room(username: str, info: dict[str, Any]) -> StreamerProfile:
    """The streamer's profile from TikTok's room info (`owner`)."""
    owner = info.get("owner") if isinstance(info.get("owner"), dict) else {}
    assert isinstance(owner, dict)
    avatars = (owner.get("avatar_thumb") or {}).get("url_list") or []
    follow = owner.get("follow_info") or {}
    followers = follow.get("follower_count") if isinstance(follow, dict) else None
    return StreamerProfile(
        username=username,
        user_id=str(owner.get("id_str") or owner.get("id") or "") or None,
        display_name=owner.get("nickname") or None,
        follower_count=followers if isinstance(followers, int) else None,
        bio=owner.get("bio_description") or None,
        avatar_url=avatars[0] if avatars else None,
        extra={"room_title": info.get("title"), "viewers": info.get("user_count")},
    )


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
        self.node_id = node_id or uuid.uuid4().hex
        self._captures: dict[uuid.UUID, _Capture] = {}
        self._keys: dict[tuple[uuid.UUID, str], uuid.UUID | None] = {}  # None = starting
        self._heartbeat: asyncio.Task[None] | None = None
        self._adopt = True
        self._closing = False

    # -- public API --------------------------------------------------------------------------

    @property
    def active_count(self) -> int:
        return len(self._captures)

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
        if self._closing or len(self._keys) >= self.config.max_captures:
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

    async def wait(self, session_id: uuid.UUID) -> None:
        """Returns when the capture of this session running here has finished (its events
        flushed and its status written); at once if there is none."""
        capture = self._captures.get(session_id)
        if capture is not None and capture.task is not None:
            await asyncio.wait({capture.task})  # never raises, nor cancels the capture

    async def start_background(self, *, adopt: bool = True) -> None:
        """Starts the heartbeat. `adopt=False` (the CLI recorder) keeps this process's
        sessions alive without taking over sessions other nodes left behind."""
        self._adopt = adopt
        if self._heartbeat is None:
            self._heartbeat = asyncio.create_task(self._heartbeat_loop(), name="live-heartbeat")

    async def shutdown(self) -> None:
        """Stops every capture, makes its events durable and marks its session interrupted."""
        self._closing = True
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
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
        await self._mark_stale_interrupted()
        resumed: list[uuid.UUID] = []
        for session in await self._resumable():
            if self._closing or len(self._keys) >= self.config.max_captures:
                break
            if await self._resume_one(session):
                resumed.append(session.id)
        return resumed

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

    async def _mark_stale_interrupted(self) -> None:
        cutoff = utcnow() - timedelta(seconds=self.config.stale_after)
        async with self._db() as db:
            await db.execute(
                update(LiveSession)
                .where(
                    LiveSession.status == SessionStatus.ACTIVE.value,
                    or_(
                        LiveSession.capture_node.is_(None), LiveSession.capture_node != self.node_id
                    ),
                    or_(LiveSession.heartbeat_at.is_(None), LiveSession.heartbeat_at < cutoff),
                )
                .values(status=SessionStatus.INTERRUPTED.value, end_reason="crash")
            )
            await db.commit()

    async def _resumable(self) -> list[LiveSession]:
        since = utcnow() - timedelta(seconds=self.config.resume_window)
        async with self._db() as db:
            rows = await db.scalars(
                select(LiveSession)
                .where(
                    LiveSession.status == SessionStatus.INTERRUPTED.value,
                    and_(LiveSession.heartbeat_at.is_not(None), LiveSession.heartbeat_at >= since),
                )
                .order_by(LiveSession.started_at)
            )
            return list(rows)

    async def _claim(self, session: LiveSession) -> bool:
        """Atomically takes an interrupted session: one node wins, the others see 0 rows."""
        now = utcnow()
        async with self._db() as db:
            result = await db.execute(
                update(LiveSession)
                .where(
                    LiveSession.id == session.id,
                    LiveSession.status == SessionStatus.INTERRUPTED.value,
                )
                .values(
                    status=SessionStatus.ACTIVE.value,
                    end_reason=None,
                    capture_node=self.node_id,
                    heartbeat_at=now,
                    resume_count=LiveSession.resume_count + 1,
                    updated_at=now,
                )
            )
            await db.commit()
        return bool(getattr(result, "rowcount", 0))

    async def _resume_one(self, session: LiveSession) -> bool:
        key = (session.owner_id, session.streamer_username)
        if key in self._keys or not await self._claim(session):
            return False
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

    # -- heartbeat ---------------------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat_interval)
            try:
                await self.beat()
            except Exception as exc:  # the database may be briefly away; try again next beat
                log.warning("live heartbeat failed", error=str(exc))

    async def beat(self) -> None:
        """Says this node is alive, stops captures ended elsewhere, adopts orphaned ones
        (unless started with `adopt=False`)."""
        now = utcnow()
        async with self._db() as db:
            await db.execute(
                update(LiveSession)
                .where(
                    LiveSession.capture_node == self.node_id,
                    LiveSession.status == SessionStatus.ACTIVE.value,
                )
                .values(heartbeat_at=now)
            )
            ended = await db.scalars(
                select(LiveSession.id).where(
                    LiveSession.id.in_(list(self._captures)),
                    LiveSession.status != SessionStatus.ACTIVE.value,
                )
            )
            ended_ids = list(ended)
            await db.commit()
        for session_id in ended_ids:
            await self.stop(session_id, reason="stopped_by_user")
        if self._adopt:
            await self.resume()


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
