"""`allin live record`: capture a LIVE into the database, as the API does, with a status
line until the stream ends, Ctrl-C or a limit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.text import Text
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from allin.auth.models import Role, User, UserStatus
from allin.core.config import Settings
from allin.core.gc import tune_gc
from allin.db.cli import CliError, run_with_database
from allin.db.engine import create_session_factory
from allin.live.cli.common import client_options, duration, type_counts, user_by_email
from allin.live.models import LiveSession
from allin.live.protocol import LiveEvent
from allin.live.schemas import SessionOut, normalise_username

if TYPE_CHECKING:
    from allin.live.capture import EventSource, OpenedStream, SourceFactory
    from allin.live.service import LiveService
    from allin.live.storage import SessionTally


def record(
    username: Annotated[str, typer.Argument(help="@name, name or a tiktok.com/@name/live URL")],
    owner: Annotated[
        str | None,
        typer.Option(help="Email of the session's owner [default: the only admin or user]"),
    ] = None,
    demo: Annotated[bool, typer.Option(help="Run against the built-in simulator")] = False,
    max_events: Annotated[int | None, typer.Option(help="Stop after N events", min=1)] = None,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds", min=0.1)
    ] = None,
) -> None:
    """Capture a LIVE into the database (a session, as the API starts) until it ends or
    Ctrl-C, with a status line. Ctrl-C stores every event received and ends the session."""
    try:
        name = normalise_username(username)
    except ValueError as exc:
        Console(stderr=True).print(f"[red][LIVE_INVALID_USERNAME] {escape(str(exc))}[/]")
        raise typer.Exit(1) from None
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise

    async def main(settings: Settings, engine: AsyncEngine) -> LiveSession:
        return await _record(
            settings, engine, name, owner, demo=demo, max_events=max_events, duration=duration
        )

    try:
        session = run_with_database(main)
    except KeyboardInterrupt:  # a second Ctrl-C: the user chose not to wait for the flush
        Console(stderr=True).print("[yellow]stopped without flushing[/]")
        raise typer.Exit(130) from None
    _print_summary(session)
    raise typer.Exit(1 if session.end_reason == "error" else 0)


async def _record(
    settings: Settings,
    engine: AsyncEngine,
    username: str,
    owner_email: str | None,
    *,
    demo: bool,
    max_events: int | None,
    duration: float | None,
) -> LiveSession:
    from allin.live.capture import ClientSources
    from allin.live.service import LiveService

    factory = create_session_factory(engine)
    async with factory() as db:
        owner = await _owner(db, owner_email)
    stop = asyncio.Event()
    with _stop_on_signals(stop):
        async with client_options(demo) as options:
            sources: SourceFactory = ClientSources(options)
            if max_events is not None:
                sources = EventBudget(sources, max_events)
            service = LiveService(settings, engine, factory, sources)
            await service.start(adopt=False)
            if settings.env != "test":
                tune_gc()
            try:
                session = await service.captures.start(owner.id, username)
                Console(soft_wrap=True, highlight=False).print(
                    f"recording [bold]@{username}[/] into session {session.id} "
                    f"for {escape(owner.email)} (Ctrl-C stops)"
                )
                await _follow(service, session, stop, duration)
            finally:
                await service.stop()  # anything still running is flushed and left resumable
    async with factory() as db:
        ended = await db.get(LiveSession, session.id)
    assert ended is not None
    return ended


async def _owner(db: AsyncSession, email: str | None) -> User:
    """Whose session a recording is: --owner, else the only admin, else the only user."""
    user = await user_by_email(db, email) if email is not None else await _default_owner(db)
    if user.status == UserStatus.SUSPENDED:
        raise CliError(f"{user.email} is suspended (`allin users activate {user.email}`)")
    return user


async def _default_owner(db: AsyncSession) -> User:
    admins = list(await db.scalars(select(User).where(User.role == Role.ADMIN).limit(2)))
    if len(admins) == 1:
        return admins[0]
    users = list(await db.scalars(select(User).limit(2)))
    if len(users) == 1:
        return users[0]
    if not users:
        raise CliError(
            "sessions belong to a user and there is none yet: create one with "
            "`allin users create-admin --email you@example.com`"
        )
    raise CliError("several users could own the session: pass --owner EMAIL")


@contextlib.contextmanager
def _stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """Ctrl-C (or SIGTERM) asks for a clean stop; a second Ctrl-C raises KeyboardInterrupt."""
    loop = asyncio.get_running_loop()

    def first() -> None:
        stop.set()
        loop.remove_signal_handler(signal.SIGINT)  # back to Python's default handler

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # no signals here
            loop.add_signal_handler(sig, first)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def _follow(
    service: LiveService, session: LiveSession, stop: asyncio.Event, duration: float | None
) -> None:
    """Shows the status line until the capture ends; Ctrl-C and --duration end it cleanly
    (the capture manager flushes its events and writes the session's end)."""
    ended = asyncio.create_task(service.captures.wait(session.id))
    stopping = asyncio.create_task(stop.wait())
    started = time.monotonic()

    def status() -> Text:
        tally = service.writer.tally(session.id)
        return _record_status(session.streamer_username, tally, time.monotonic() - started)

    with Live(status(), console=Console(), transient=True, refresh_per_second=4) as live:
        refresher = asyncio.create_task(_refresh_status(live, status))
        try:
            await asyncio.wait({ended, stopping}, timeout=duration, return_when="FIRST_COMPLETED")
            if not ended.done():
                reason = "stopped_by_user" if stop.is_set() else "duration_reached"
                await service.captures.stop(session.id, reason=reason)
        finally:
            for task in (refresher, stopping, ended):  # `ended` only waits: the capture is done
                task.cancel()
            await asyncio.gather(refresher, stopping, ended, return_exceptions=True)


async def _refresh_status(live: Live, status: Callable[[], Text]) -> None:
    while True:
        live.update(status())
        await asyncio.sleep(0.25)


def _record_status(username: str, tally: SessionTally | None, elapsed: float) -> Text:
    """Stored events (the writer's totals count only committed ones), per type, viewers."""
    stored = tally.total_events if tally else 0
    counters = tally.counters if tally else {}
    viewers = f"{tally.current_viewers:,}" if tally and "room_user" in counters else "-"
    return Text.assemble(
        ("● recording", "red"),
        f"  @{username}  {duration(elapsed)}  stored {stored:,}  viewers {viewers}\n",
        (type_counts(counters) or "waiting for events…", "dim"),
    )


def _print_summary(session: LiveSession) -> None:
    out = SessionOut.of(session)
    colour = "green" if out.status == "ended" and out.end_reason != "error" else "yellow"
    console = Console(soft_wrap=True, highlight=False)
    console.print(
        f"session {out.id} [{colour}]{out.status}[/] ({out.end_reason or '-'}): "
        f"{out.total_events:,} events stored in {duration(out.duration_seconds)}"
    )
    if out.counters:
        console.print(type_counts(out.counters), style="dim")


class EventBudget:
    """`--max-events`: a SourceFactory whose streams end after `limit` events in all (a
    reconnect opens a new source, which shares what is left of the budget)."""

    def __init__(self, sources: SourceFactory, limit: int) -> None:
        self.sources = sources
        self.left = limit

    async def open(self, username: str) -> OpenedStream:
        opened = await self.sources.open(username)
        return replace(opened, source=_BudgetedSource(opened.source, self))

    async def live_status(self, usernames: list[str]) -> dict[str, bool]:
        return await self.sources.live_status(usernames)


class _BudgetedSource:
    def __init__(self, source: EventSource, budget: EventBudget) -> None:
        self.source = source
        self.budget = budget

    @property
    def end_reason(self) -> str | None:
        if self.budget.left <= 0:
            return "max_events_reached"
        reason: str | None = getattr(self.source, "end_reason", None)
        return reason

    async def events(self) -> AsyncIterator[LiveEvent]:
        events = self.source.events()
        try:
            while self.budget.left > 0:
                try:
                    event = await anext(events)
                except StopAsyncIteration:
                    return
                self.budget.left -= 1
                yield event
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    async def close(self) -> None:
        await self.source.close()
