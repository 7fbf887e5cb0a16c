"""`allin live sessions` and `allin live export`: the recorded sessions, listed and
exported as the API's download does."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from allin.core.config import Settings
from allin.db.cli import CliError, run_with_database
from allin.db.engine import create_session_factory
from allin.live.cli.common import duration, user_by_email
from allin.live.models import LiveEventRow, LiveSession, SessionStatus
from allin.live.schemas import SessionOut


class StatusChoice(StrEnum):
    ACTIVE = SessionStatus.ACTIVE.value
    ENDED = SessionStatus.ENDED.value
    INTERRUPTED = SessionStatus.INTERRUPTED.value


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
            owner_id = (await user_by_email(db, owner)).id if owner else None
            filters = SessionFilter(status.value if status else None, name)
            rows, _total = await list_sessions(db, owner_id, filters, page=1, limit=limit)
        return [SessionOut.of(row) for row in rows]

    found = run_with_database(main)
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
            duration(out.duration_seconds),
            f"{out.total_events:,}",
        )
    return table


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


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

    written = run_with_database(main)
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
