"""`allin live watch`: a LIVE stream's events in the terminal, as they come."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import time
from collections import deque
from contextlib import aclosing
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.text import Text

from allin.live.cli.common import client_options
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

if TYPE_CHECKING:
    from allin.live.client import LiveClient


KNOWN_TYPES = frozenset(cls.type for cls in EVENT_TYPES)


RATE_WINDOW = 5.0


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
        async with client_options(demo) as options:
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
