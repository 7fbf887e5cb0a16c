"""This process as a capture node: its identity, the heartbeat on the sessions it captures,
and the adoption of sessions that stopped or dead nodes left behind.

A node's identity is kept in the data directory and held with an exclusive lock for the
process's life, so a process restarted after a crash (kill -9, power loss) is the same node
and takes its sessions back at once, instead of waiting `stale_after` for them to look
abandoned. The lock guarantees no living process still captures them; a second process on
the same data directory gets the next free identity."""

from __future__ import annotations

import asyncio
import fcntl
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, or_, select, update

from allin.auth.models import User, UserStatus
from allin.core.clock import utcnow
from allin.core.logging import Category, get_logger
from allin.live.models import LiveSession, SessionStatus

if TYPE_CHECKING:
    from allin.live.capture.manager import CaptureConfig, CaptureManager, SessionFactory

log = get_logger(Category.LIVE)

NODE_SLOTS = 16  # processes sharing one data directory that each keep an identity
OWNER_SUSPENDED = "owner_suspended"  # the end reason of a suspended user's captures


@dataclass(slots=True)
class NodeIdentity:
    """A node id, held (`_lock` open and locked) until `release()`."""

    node_id: str
    _lock: IO[str] | None = None

    @classmethod
    def claim(cls, directory: Path) -> NodeIdentity:
        """The first identity under `directory` no living process holds; a fresh one that
        nothing remembers when the directory cannot be used."""
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            for slot in range(NODE_SLOTS):
                identity = cls._try(directory / f"live-node-{slot}")
                if identity is not None:
                    return identity
        except OSError as exc:
            log.warning("no persistent capture node identity", error=str(exc))
        return cls(uuid.uuid4().hex)

    @classmethod
    def _try(cls, path: Path) -> NodeIdentity | None:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        file = os.fdopen(descriptor, "r+", encoding="ascii")
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return None
        node_id = file.read().strip()
        if len(node_id) != 32 or not node_id.isalnum():
            node_id = uuid.uuid4().hex
            file.seek(0)
            file.truncate()
            file.write(node_id)
            file.flush()
            os.fsync(file.fileno())
        return cls(node_id, file)

    def release(self) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.close()  # closing drops the lock


class CaptureNode:
    """Heartbeat and adoption for one `CaptureManager`."""

    def __init__(
        self,
        manager: CaptureManager,
        session_factory: SessionFactory,
        config: CaptureConfig,
        node_id: str,
    ) -> None:
        self._manager = manager
        self._db = session_factory
        self._config = config
        self.node_id = node_id
        self.started_at = utcnow()
        self._heartbeat: asyncio.Task[None] | None = None
        self._adopt = True
        self._reclaimed = False  # sessions of this node's previous life taken back

    def start(self, *, adopt: bool) -> None:
        self._adopt = adopt
        if self._heartbeat is None:
            self._heartbeat = asyncio.create_task(self._heartbeat_loop(), name="live-heartbeat")

    async def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self._config.heartbeat_interval)
            try:
                await self.beat()
            except Exception as exc:  # the database may be briefly away; try again next beat
                log.warning("live heartbeat failed", error=str(exc))

    async def beat(self) -> None:
        """Says this node is alive, stops captures ended elsewhere, adopts orphaned ones
        (unless started with `adopt=False`)."""
        running = self._manager.running_sessions()
        ended_ids: list[uuid.UUID] = []
        suspended_ids: list[uuid.UUID] = []
        if running:
            async with self._db() as db:
                # Only what runs here: a session of this node's previous life must look
                # as dead as it is.
                await db.execute(
                    update(LiveSession)
                    .where(
                        LiveSession.id.in_(running),
                        LiveSession.capture_node == self.node_id,
                        LiveSession.status == SessionStatus.ACTIVE.value,
                    )
                    .values(heartbeat_at=utcnow())
                )
                ended = await db.scalars(
                    select(LiveSession.id).where(
                        LiveSession.id.in_(running),
                        LiveSession.status != SessionStatus.ACTIVE.value,
                    )
                )
                ended_ids = list(ended)
                # Suspended on another process (or from the CLI): not heard of here.
                suspended = await db.scalars(
                    select(LiveSession.id)
                    .join(User, User.id == LiveSession.owner_id)
                    .where(LiveSession.id.in_(running), User.status == UserStatus.SUSPENDED)
                )
                suspended_ids = list(suspended)
                await db.commit()
        for session_id in ended_ids:
            await self._manager.stop(session_id, reason="stopped_by_user")
        for session_id in suspended_ids:
            await self._manager.stop(session_id, reason=OWNER_SUSPENDED)
        if self._adopt:
            await self.resume()

    async def resume(self) -> list[uuid.UUID]:
        """Adopts sessions a dead or stopped node left behind and reconnects them.
        Returns the sessions capturing again here."""
        if not self._reclaimed:
            await self._interrupt_previous_life()
            self._reclaimed = True
        await self._mark_stale_interrupted()
        resumed: list[uuid.UUID] = []
        for session in await self._resumable():
            if not self._manager.has_room():
                break
            if not self._manager.free_for(session) or not await self._claim(session):
                continue
            if await self._manager.take_over(session):
                resumed.append(session.id)
        return resumed

    async def _interrupt_previous_life(self) -> None:
        """Sessions this node captured before it was restarted: no process runs them (the
        identity's lock says so), so they are interrupted now, not `stale_after` later."""
        await self._interrupt(
            LiveSession.capture_node == self.node_id,
            LiveSession.id.not_in(self._manager.running_sessions()),
            or_(LiveSession.heartbeat_at.is_(None), LiveSession.heartbeat_at < self.started_at),
        )

    async def _mark_stale_interrupted(self) -> None:
        cutoff = utcnow() - timedelta(seconds=self._config.stale_after)
        await self._interrupt(
            or_(LiveSession.capture_node.is_(None), LiveSession.capture_node != self.node_id),
            or_(LiveSession.heartbeat_at.is_(None), LiveSession.heartbeat_at < cutoff),
        )

    async def _interrupt(self, *conditions: ColumnElement[bool]) -> None:
        async with self._db() as db:
            await db.execute(
                update(LiveSession)
                .where(LiveSession.status == SessionStatus.ACTIVE.value, *conditions)
                .values(status=SessionStatus.INTERRUPTED.value, end_reason="crash")
            )
            await db.commit()

    async def _resumable(self) -> list[LiveSession]:
        since = utcnow() - timedelta(seconds=self._config.resume_window)
        async with self._db() as db:
            rows = await db.scalars(
                select(LiveSession)
                .join(User, User.id == LiveSession.owner_id)
                .where(
                    LiveSession.status == SessionStatus.INTERRUPTED.value,
                    and_(LiveSession.heartbeat_at.is_not(None), LiveSession.heartbeat_at >= since),
                    User.status != UserStatus.SUSPENDED,
                )
                .order_by(LiveSession.started_at)
            )
            return list(rows)

    async def _claim(self, session: LiveSession) -> bool:
        """Atomically takes an interrupted session: one node wins, the others see 0 rows."""
        now: datetime = utcnow()
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
