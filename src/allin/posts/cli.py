"""`allin posts ...`, `allin queue status` and `allin worker`: the same services as the API
and the same publish code as the embedded dispatcher."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.auth.email import create_email_backend
from allin.auth.models import User
from allin.auth.service import normalise_email
from allin.core.config import Settings, get_settings
from allin.core.errors import AppError
from allin.db.engine import create_engine, create_session_factory
from allin.posts import ops
from allin.posts.media import MediaStore
from allin.posts.models import Post, PostTarget, TargetStatus
from allin.posts.notify import Notifier
from allin.posts.ports import NoAccounts, PublishingAccounts
from allin.posts.service import PostsService
from allin.posts.tasks import QueueNeedsPostgresError, require_postgres
from allin.posts.worker import run_worker

posts_app = typer.Typer(help="Scheduled posts: list, inspect, retry.")
queue_app = typer.Typer(help="The publishing queue.")
console = Console()

# The composition layer replaces this with the social accounts service's adapter.
AccountsFactory = Callable[[Settings], PublishingAccounts]
accounts_factory: AccountsFactory = lambda settings: NoAccounts()  # noqa: E731


@asynccontextmanager
async def _database() -> AsyncIterator[tuple[Settings, async_sessionmaker[AsyncSession]]]:
    settings = get_settings()
    engine = create_engine(settings.effective_database_url)
    try:
        yield settings, create_session_factory(engine)
    finally:
        await engine.dispose()


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]{message}[/]")
    return typer.Exit(1)


@posts_app.command("list")
def list_posts(
    email: Annotated[str | None, typer.Option(help="Only this user's posts")] = None,
    status: Annotated[TargetStatus | None, typer.Option(help="Only targets in this state")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    """Targets, newest schedule first."""

    async def run() -> None:
        async with _database() as (_, sessions), sessions() as session:
            query = select(PostTarget, Post).join(Post, Post.id == PostTarget.post_id)
            if email:
                user = await session.scalar(
                    select(User).where(User.email == normalise_email(email))
                )
                if user is None:
                    raise _fail(f"No user {email}")
                query = query.where(PostTarget.owner_id == user.id)
            if status is not None:
                query = query.where(PostTarget.status == status)
            rows = await session.execute(
                query.order_by(PostTarget.scheduled_at.desc()).limit(limit)
            )
            table = Table(
                "post", "target", "platform", "status", "scheduled (UTC)", "tries", "error"
            )
            for target, post in rows:
                table.add_row(
                    str(post.id), str(target.id), target.platform, target.status,
                    f"{target.scheduled_at:%Y-%m-%d %H:%M}" if target.scheduled_at else "-",
                    str(target.attempts), target.last_error_code or "",
                )  # fmt: skip
            console.print(table)

    asyncio.run(run())


@posts_app.command("show")
def show(post_id: uuid.UUID) -> None:
    """One post and each target's state, in the post's time zone."""

    async def run() -> None:
        async with _database() as (settings, sessions), sessions() as session:
            post = await session.get(Post, post_id)
            if post is None:
                raise _fail("No such post")
            service = PostsService(settings, NoAccounts(), _media(settings))
            out = await service.out(session, post)
            console.print(f"[bold]{post.id}[/] ({post.timezone})\n{post.content}\n")
            for t in out.targets:
                when = f"{t.scheduled_local:%Y-%m-%d %H:%M %Z}" if t.scheduled_local else "-"
                console.print(f"  {t.platform:<10} {t.status:<12} {when}  tries={t.attempts}")
                if t.platform_url:
                    console.print(f"    {t.platform_url}")
                if t.last_error:
                    console.print(f"    [red]{t.last_error_code}: {t.last_error}[/]")

    asyncio.run(run())


@posts_app.command("retry")
def retry(post_id: uuid.UUID) -> None:
    """Put a post's failed targets back in the queue, due now."""

    async def run() -> None:
        async with _database() as (settings, sessions), sessions() as session:
            post = await session.get(Post, post_id)
            if post is None:
                raise _fail("No such post")
            service = PostsService(settings, NoAccounts(), _media(settings))
            try:
                await service.retry(session, post.owner_id, post.id)
            except AppError as exc:
                raise _fail(exc.message) from None
            await session.commit()
            console.print("queued")

    asyncio.run(run())


@queue_app.command("status")
def status() -> None:
    """Counts per state, what is due, lag, throughput, workers and rate limits in force."""

    async def run() -> None:
        async with _database() as (settings, sessions), sessions() as session:
            out = await ops.queue_status(session, settings)
        table = Table("state", "targets")
        for name, count in out.counts.items():
            table.add_row(name, str(count))
        console.print(table)
        console.print(
            f"due now {out.due}, oldest due {out.oldest_due_at or '-'}, "
            f"lag {out.lag_seconds:.1f} s, published last hour {out.published_last_hour}, "
            f"failed {out.failed_last_hour}"
        )
        for w in out.workers:
            state = "[green]alive[/]" if w.alive else "[red]silent[/]"
            console.print(
                f"  {w.id} {state} heartbeat {w.heartbeat_at:%H:%M:%S} sent {w.published}"
            )
        for window in out.rate_windows:
            held = "every account" if window.scope == "app" else f"account {window.key}"
            why = f" ({window.reason})" if window.reason else ""
            until = f"{window.until:%Y-%m-%d %H:%M:%S}"
            console.print(f"  rate limited: {window.platform} {held} until {until} UTC{why}")

    asyncio.run(run())


def _media(settings: Settings) -> MediaStore:
    return MediaStore(settings.data_dir / "media", settings.posts_max_upload_bytes)


def worker() -> None:
    """Publish due posts from this process: a procrastinate worker on PostgreSQL (run
    several to scale out; every row is claimed atomically, so none is sent twice)."""
    settings = get_settings()
    try:
        require_postgres(settings)
    except QueueNeedsPostgresError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    if settings.queue != "procrastinate":
        console.print(
            "[yellow]ALLIN_QUEUE is not procrastinate: `allin serve` also publishes with its "
            "embedded dispatcher and defers no jobs (this worker still finds due rows).[/]"
        )
    console.print("worker publishing (Ctrl-C stops after in-flight sends)")
    notifier = Notifier(settings, create_email_backend(settings))
    asyncio.run(run_worker(settings, accounts_factory(settings), notifier))
