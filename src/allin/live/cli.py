"""`allin live ...`: watch a LIVE in the terminal; record one into the database, list the
recorded sessions and export them, through the same services as the API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import aclosing, asynccontextmanager
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from allin.auth.models import Role, User, UserStatus
from allin.auth.service import normalise_email
from allin.core.config import Settings, get_settings
from allin.core.errors import AppError
from allin.core.gc import tune_gc
from allin.db import migrate
from allin.db.engine import create_engine, create_session_factory
from allin.live.models import LiveEventRow, LiveSession, SessionStatus
from allin.live.protocol import (
    EVENT_TYPES,
    ChatEvent,
    ControlEvent,
    FollowEvent,
    GiftEvent,
    JoinEvent,
    LikeEvent,
    LiveEvent,
    RoomUserEvent,
    ShareEvent,
)
from allin.live.schemas import SessionOut, normalise_username

if TYPE_CHECKING:
    from allin.live.capture import EventSource, OpenedStream, SourceFactory
    from allin.live.client import LiveClient, LiveClientOptions
    from allin.live.service import LiveService
    from allin.live.storage import SessionTally

app = typer.Typer(help="Watch TikTok LIVE streams.", no_args_is_help=True)
KNOWN_TYPES = frozenset(cls.type for cls in EVENT_TYPES)
RATE_WINDOW = 5.0


@app.command()
def watch(
    username: Annotated[str, typer.Argument(help="@name, name or a tiktok.com/@name/live URL")],
    json_lines: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
    types: Annotated[str | None, typer.Option(help="Only these types, e.g. chat,gift")] = None,
    demo: Annotated[bool, typer.Option(help="Run against the built-in simulator")] = False,
    limit: Annotated[int | None, typer.Option(help="Stop after N events", min=1)] = None,
) -> None:
    """Print a LIVE stream's events as they come, with a status line."""
    wanted = _parse_types(types)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    try:
        code = asyncio.run(_watch(username, wanted, json_lines=json_lines, demo=demo, limit=limit))
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


def _parse_types(types: str | None) -> frozenset[str] | None:
    if not types:
        return None
    wanted = frozenset(t.strip() for t in types.split(",") if t.strip())
    unknown = wanted - KNOWN_TYPES
    if unknown:
        raise typer.BadParameter(
            f"unknown types {sorted(unknown)}; known: {', '.join(sorted(KNOWN_TYPES))}",
            param_hint="--types",
        )
    return wanted


@asynccontextmanager
async def _options(demo: bool) -> AsyncIterator[LiveClientOptions]:
    from allin.live.client import LiveClientOptions

    if not demo:
        yield LiveClientOptions.from_settings(get_settings())
        return
    from allin.simulator.live.server import run_simulator
    from allin.simulator.live.simulator import Simulator

    # The simulator's /sign side is AllIN's own fetch endpoint relaying the simulator.
    # Ctrl-C is the command's: it ends a recording cleanly, not the simulator under it.
    async with run_simulator(Simulator(), log_level="warning", handle_signals=False) as running:
        urls = running.urls
        yield LiveClientOptions(web_url=urls.web, webcast_url=urls.webcast, sign_url=urls.sign)


async def _watch(
    username: str,
    wanted: frozenset[str] | None,
    *,
    json_lines: bool,
    demo: bool,
    limit: int | None,
) -> int:
    from allin.live.client import LiveClient
    from allin.live.errors import LiveError

    err = Console(stderr=True)
    try:
        async with _options(demo) as options:
            client = LiveClient(username, options=options)
            if json_lines:
                await _print_json(client, wanted, limit)
            else:
                await _print_rich(client, wanted, limit)
            if client.close_reason not in (None, "closed"):
                err.print(f"[yellow]stream closed: {client.close_reason}[/]")
    except LiveError as exc:
        err.print(f"[red][{exc.code}] {escape(exc.message)}[/]")
        return 1
    return 0


async def _print_json(client: LiveClient, wanted: frozenset[str] | None, limit: int | None) -> None:
    shown = 0
    async with aclosing(client.events()) as events:
        async for event in events:
            if wanted is not None and event.type not in wanted:
                continue
            sys.stdout.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
            sys.stdout.flush()
            shown += 1
            if limit is not None and shown >= limit:
                break


async def _print_rich(client: LiveClient, wanted: frozenset[str] | None, limit: int | None) -> None:
    console = Console()
    recent: deque[float] = deque()
    shown = 0
    with Live(_status(client, recent), console=console, transient=True) as live:
        refresher = asyncio.create_task(_refresh(live, client, recent))
        try:
            async with aclosing(client.events()) as events:
                async for event in events:
                    recent.append(time.monotonic())
                    if wanted is not None and event.type not in wanted:
                        continue
                    live.console.print(describe(event))
                    shown += 1
                    if limit is not None and shown >= limit:
                        break
        finally:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher


async def _refresh(live: Live, client: LiveClient, recent: deque[float]) -> None:
    while True:
        live.update(_status(client, recent))
        await asyncio.sleep(0.25)


def _status(client: LiveClient, recent: deque[float]) -> Text:
    now = time.monotonic()
    while recent and recent[0] < now - RATE_WINDOW:
        recent.popleft()
    status = client.status
    colour = "green" if status.state in ("connected", "polling") else "yellow"
    viewers = "-" if status.viewers is None else f"{status.viewers:,}"
    return Text.assemble(
        ("● ", colour),
        (f"{status.state}", colour),
        f"  @{client.username}  room {status.room_id or '-'}  viewers {viewers}",
        f"  events {status.events:,}  {len(recent) / RATE_WINDOW:.1f}/s",
        f"  reconnects {status.reconnects}" if status.reconnects else "",
    )


def _who(event: LiveEvent) -> str:
    user = event.user
    return f"@{escape(user.unique_id)}" if user is not None and user.unique_id else "someone"


def describe(event: LiveEvent) -> str:
    """One rich-markup line for an event."""
    who = _who(event)
    if isinstance(event, ChatEvent):
        text = escape(event.content) or "".join("[sticker]" for _ in event.emotes)
        return f"[cyan]chat[/]   {who}: {text}"
    if isinstance(event, GiftEvent):
        name = escape(event.gift.name) if event.gift else f"gift {event.gift_id}"
        if event.streaking:
            return f"[magenta]gift[/]   {who} sending {name} x{event.repeat_count} [dim](streak)[/]"
        return f"[magenta]gift[/]   {who} sent {name} x{event.repeat_count} = {event.diamonds} 💎"
    if isinstance(event, LikeEvent):
        return f"[red]like[/]   {who} x{event.count} (total {event.total:,})"
    if isinstance(event, JoinEvent):
        return f"[green]join[/]   {who} joined"
    if isinstance(event, FollowEvent):
        return f"[green]follow[/] {who} followed"
    if isinstance(event, ShareEvent):
        return f"[green]share[/]  {who} shared the LIVE"
    if isinstance(event, RoomUserEvent):
        return f"[blue]viewers[/] {event.viewer_count:,} now, {event.total_viewers:,} in total"
    if isinstance(event, ControlEvent):
        return f"[yellow]stream[/] {event.action} {escape(event.reason)}".rstrip()
    return f"[dim]{event.type}[/]  {escape(event.method)}"


# -- record, sessions, export: the database side ----------------------------------------------

T = TypeVar("T")


class CliError(Exception):
    """Bad input or state the user can fix: printed as one line, exit code 1."""


def _run_db(main: Callable[[Settings, AsyncEngine], Coroutine[Any, Any, T]]) -> T:
    """Runs `main` on the migrated database (as `allin db upgrade` migrates it); known errors
    become one red line and exit code 1, never a traceback."""
    settings = get_settings()
    url = settings.effective_database_url
    err = Console(stderr=True, soft_wrap=True)
    try:
        if settings.migrate_on_startup:
            migrate.upgrade(url)
        return asyncio.run(_with_engine(settings, url, main))
    except AppError as exc:
        err.print(f"[red][{exc.code}] {escape(exc.message)}[/]")
    except CliError as exc:
        err.print(f"[red]{escape(str(exc))}[/]")
    except SQLAlchemyError as exc:
        err.print(f"[red]database error: {escape(str(exc).splitlines()[0])}[/]")
    raise typer.Exit(1)


async def _with_engine(
    settings: Settings, url: str, main: Callable[[Settings, AsyncEngine], Coroutine[Any, Any, T]]
) -> T:
    engine = create_engine(url)
    try:
        return await main(settings, engine)
    finally:
        await engine.dispose()


async def _user_by_email(db: AsyncSession, email: str) -> User:
    user = await db.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise CliError(f"no user with email {email} (`allin users list` shows them)")
    return user


async def _owner(db: AsyncSession, email: str | None) -> User:
    """Whose session a recording is: --owner, else the only admin, else the only user."""
    user = await _user_by_email(db, email) if email is not None else await _default_owner(db)
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


# -- record ------------------------------------------------------------------------------------


@app.command()
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
        session = _run_db(main)
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
        async with _options(demo) as options:
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
        f"  @{username}  {_duration(elapsed)}  stored {stored:,}  viewers {viewers}\n",
        (_type_counts(counters) or "waiting for events…", "dim"),
    )


def _type_counts(counters: dict[str, int]) -> str:
    ordered = sorted(counters.items(), key=lambda item: (-item[1], item[0]))
    return "  ".join(f"{kind} {count:,}" for kind, count in ordered)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def _print_summary(session: LiveSession) -> None:
    out = SessionOut.of(session)
    colour = "green" if out.status == "ended" and out.end_reason != "error" else "yellow"
    console = Console(soft_wrap=True, highlight=False)
    console.print(
        f"session {out.id} [{colour}]{out.status}[/] ({out.end_reason or '-'}): "
        f"{out.total_events:,} events stored in {_duration(out.duration_seconds)}"
    )
    if out.counters:
        console.print(_type_counts(out.counters), style="dim")


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


# -- sessions ----------------------------------------------------------------------------------


class StatusChoice(StrEnum):
    ACTIVE = SessionStatus.ACTIVE.value
    ENDED = SessionStatus.ENDED.value
    INTERRUPTED = SessionStatus.INTERRUPTED.value


@app.command()
def sessions(
    status: Annotated[StatusChoice | None, typer.Option(help="Only sessions in this state")] = None,
    streamer: Annotated[str | None, typer.Option(help="Streamer name contains this")] = None,
    owner: Annotated[
        str | None, typer.Option(help="Only this user's (email) [default: every user's]")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most N, newest first", min=1)] = 20,
    json_lines: Annotated[
        bool, typer.Option("--json", help="One JSON object per line (the API's session shape)")
    ] = False,
) -> None:
    """List recorded sessions, newest first."""

    async def main(_: Settings, engine: AsyncEngine) -> list[SessionOut]:
        from allin.live.service import SessionFilter, list_sessions

        name = streamer.lower().lstrip("@") if streamer else None
        async with create_session_factory(engine)() as db:
            owner_id = (await _user_by_email(db, owner)).id if owner else None
            filters = SessionFilter(status.value if status else None, name)
            rows, _total = await list_sessions(db, owner_id, filters, page=1, limit=limit)
        return [SessionOut.of(row) for row in rows]

    found = _run_db(main)
    if json_lines:
        for out in found:
            sys.stdout.write(out.model_dump_json() + "\n")
        return
    console = Console()
    if not console.is_terminal:  # a pipe or file has no width: keep each row on one line
        console = Console(width=160)
    console.print(_sessions_table(found) if found else "no sessions")


def _sessions_table(found: list[SessionOut]) -> Table:
    table = Table(box=None, header_style="bold")
    table.add_column("id", no_wrap=True, min_width=36)  # whole: `export` takes it
    table.add_column("streamer")
    table.add_column("status")
    table.add_column("started (UTC)", no_wrap=True)
    table.add_column("duration", justify="right")
    table.add_column("events", justify="right")
    colours = {"active": "green", "ended": "default", "interrupted": "yellow"}
    for out in found:
        table.add_row(
            str(out.id),
            f"@{out.streamer_username}",
            f"[{colours[out.status]}]{out.status}[/]",
            _utc(out.started_at),
            _duration(out.duration_seconds),
            f"{out.total_events:,}",
        )
    return table


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


# -- export ------------------------------------------------------------------------------------


class FormatChoice(StrEnum):
    CSV = "csv"
    JSON = "json"
    NDJSON = "ndjson"


def _session_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        message = f"{value!r} is not a session id (see `allin live sessions`)"
        raise typer.BadParameter(message) from None


@app.command()
def export(
    session_id: Annotated[uuid.UUID, typer.Argument(help="The session's id", parser=_session_id)],
    fmt: Annotated[FormatChoice, typer.Option("--format", "-f", help="File format")] = (
        FormatChoice.JSON
    ),
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", help="File to write, '-' for stdout [default: live-session-ID.FMT]"
        ),
    ] = None,
    raw: Annotated[bool, typer.Option(help="Include each event's raw bytes (base64)")] = False,
) -> None:
    """Export a session's events as the API's download does, streamed in constant memory."""
    from allin.live.export import export_filename

    target = output or export_filename(session_id, fmt.value)

    async def main(_: Settings, engine: AsyncEngine) -> int:
        return await _export(engine, session_id, fmt, target, raw=raw)

    written = _run_db(main)
    if target != "-":
        Console(stderr=True).print(f"{written:,} events written to {escape(target)}")


async def _export(
    engine: AsyncEngine, session_id: uuid.UUID, fmt: FormatChoice, target: str, *, raw: bool
) -> int:
    from allin.live.export import export_stream

    async with create_session_factory(engine)() as db:
        session = await db.get(LiveSession, session_id)
        if session is None:
            raise CliError(f"no session {session_id} (`allin live sessions` lists them)")
        total = await db.scalar(select(func.count()).where(LiveEventRow.session_id == session_id))
    summary = SessionOut.of(session).model_dump(mode="json")  # as the API's JSON export
    written = 0

    def count(events: int) -> None:
        nonlocal written
        written += events

    if target == "-":
        async for chunk in export_stream(engine, session_id, fmt.value, session=summary, raw=raw):
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return int(total or 0)
    body = export_stream(engine, session_id, fmt.value, session=summary, raw=raw, progress=count)
    await _write_file(Path(target), body, int(total or 0), lambda: written)
    return written


async def _write_file(
    path: Path, body: AsyncIterator[bytes], total: int, done: Callable[[], int]
) -> None:
    """Writes beside the target and renames, so a failed export leaves no half file."""
    partial = path.with_name(path.name + ".part")
    columns = (
        TextColumn("exporting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        TimeElapsedColumn(),
    )
    try:
        with (
            partial.open("wb") as file,
            Progress(*columns, console=Console(stderr=True), transient=True) as progress,
        ):
            task = progress.add_task("export", total=total)
            async for chunk in body:
                file.write(chunk)
                progress.update(task, completed=done())
            progress.update(task, completed=done())  # the last page is counted at the end
        os.replace(partial, path)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)
