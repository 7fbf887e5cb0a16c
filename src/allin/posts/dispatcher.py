"""The embedded dispatcher: a loop inside `allin serve` (SQLite or PostgreSQL) that sweeps
expired leases, claims due targets, publishes them with bounded concurrency and records a
heartbeat. Several can run against one database (several app processes): the claim is
atomic, so each row has one owner."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.core.clock import clock
from allin.core.config import Settings
from allin.core.logging import Category, get_logger
from allin.posts import queue
from allin.posts.models import QueueWorker
from allin.posts.ports import Due
from allin.posts.publisher import Publisher

log = get_logger(Category.QUEUE)
_MIN_SLEEP = 0.02


def worker_id(kind: str) -> str:
    return f"{kind}-{socket.gethostname()[:24]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class Dispatcher:
    def __init__(
        self,
        settings: Settings,
        session_factory: async_sessionmaker[AsyncSession],
        publisher: Publisher,
        kind: str = "embedded",
    ) -> None:
        self.settings = settings
        self.sessions = session_factory
        self.publisher = publisher
        self.kind = kind
        self.id = publisher.owner
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._slots = asyncio.Semaphore(settings.posts_concurrency)
        self._running: set[asyncio.Task[object]] = set()
        self._task: asyncio.Task[None] | None = None
        self._last_heartbeat = 0.0
        self._last_sweep = 0.0

    def wake(self) -> None:
        """Look at the queue now (a post was scheduled for now or soon)."""
        self._wake.set()

    async def due(self, targets: Sequence[Due]) -> None:
        """The service's hook after a commit: rows due before the next poll wake the loop."""
        soon = clock.now() + timedelta(seconds=self.settings.posts_poll_interval)
        if any(target.at <= soon for target in targets):
            self.wake()

    async def start(self) -> None:
        try:
            await self._heartbeat(force=True)
        except Exception:  # the app starts with its database away; the loop keeps trying
            log.exception("dispatcher heartbeat failed", worker=self.id)
        self._task = asyncio.create_task(self._loop(), name=f"posts-dispatcher-{self.id}")

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._running:
            await asyncio.wait(self._running, timeout=self.settings.posts_lease_seconds)
        await sign_off(self.publisher)

    async def run_once(self) -> int:
        """One pass: sweep, claim, start publishes. Returns how many rows were claimed."""
        now = clock.now()
        # Leases expire in minutes, so sweeping every few seconds is plenty (and keeps a
        # write transaction out of every pass on SQLite's single writer).
        if clock.monotonic() - self._last_sweep >= min(5.0, self.settings.posts_lease_seconds / 4):
            self._last_sweep = clock.monotonic()
            async with self.publisher.writing() as session:
                swept = await queue.sweep(session, now)
            if swept:
                log.warning("expired leases taken back", rows=swept, worker=self.id)
        free = self.settings.posts_concurrency - len(self._running)
        if free <= 0:
            return 0
        lease = timedelta(seconds=self.settings.posts_lease_seconds)
        async with self.publisher.writing() as session:
            ids = await queue.claim(
                session, self.id, now, lease, min(free, self.settings.posts_batch_size)
            )
        for target_id in ids:
            task = asyncio.create_task(self._publish(target_id))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return len(ids)

    async def drain(self) -> None:
        """Waits for the publishes in flight (tests and benchmarks)."""
        while self._running:
            await asyncio.wait(set(self._running))

    async def _publish(self, target_id: uuid.UUID) -> None:
        async with self._slots:
            try:
                await self.publisher.run(target_id)
            except Exception:  # the lease expires; the sweep takes it back
                log.exception("publish crashed", target_id=str(target_id), worker=self.id)

    async def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                claimed = await self.run_once()
                await self._heartbeat()
                delay = 0.0 if claimed else await self._sleep_for()
            except Exception:  # the database may be briefly away
                log.exception("dispatcher pass failed", worker=self.id)
                delay = self.settings.posts_poll_interval
            if delay > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
            elif len(self._running) >= self.settings.posts_concurrency:
                await asyncio.wait(set(self._running), return_when=asyncio.FIRST_COMPLETED)

    async def _sleep_for(self) -> float:
        async with self.sessions() as session:
            due = await queue.next_due_at(session)
        poll = self.settings.posts_poll_interval
        if due is None:
            return poll
        return max(_MIN_SLEEP, min(poll, (due - clock.now()).total_seconds()))

    async def _heartbeat(self, force: bool = False) -> None:
        if not force and clock.monotonic() - self._last_heartbeat < 5:
            return
        self._last_heartbeat = clock.monotonic()
        await heartbeat(self.publisher, self.kind)


async def heartbeat(publisher: Publisher, kind: str) -> None:
    """Records that the publishing process `publisher.owner` is alive (the admin's queue
    status lists these rows) and forgets processes silent for long."""
    now = clock.now()
    async with publisher.writing() as session:
        result = await session.execute(
            update(QueueWorker)
            .where(QueueWorker.id == publisher.owner)
            .values(heartbeat_at=now, published=publisher.published)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            session.add(_worker_row(publisher.owner, kind, now))
        stale = now - timedelta(seconds=publisher.settings.posts_worker_stale_after * 10)
        await session.execute(delete(QueueWorker).where(QueueWorker.heartbeat_at < stale))


async def sign_off(publisher: Publisher) -> None:
    """Removes the process's heartbeat row on a clean stop."""
    try:
        async with publisher.writing() as session:
            await session.execute(delete(QueueWorker).where(QueueWorker.id == publisher.owner))
    except Exception:  # its heartbeat goes stale and the row is swept by the others
        log.exception("publishing process could not sign off", worker=publisher.owner)


def _worker_row(identifier: str, kind: str, now: datetime) -> QueueWorker:
    return QueueWorker(
        id=identifier,
        kind=kind,
        hostname=socket.gethostname()[:255],
        pid=os.getpid(),
        started_at=now,
        heartbeat_at=now,
        published=0,
    )
