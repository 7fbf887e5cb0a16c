"""`allin users ...`: create the first admin, list, suspend and activate accounts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from sqlalchemy import select

from allin.auth.models import Role, User, UserStatus
from allin.auth.runtime import AuthRuntime
from allin.auth.service import AuthService
from allin.core.config import get_settings
from allin.core.errors import AppError
from allin.db.cli import database, prepare_database
from allin.db.engine import create_session_factory

app = typer.Typer(help="User accounts.", no_args_is_help=True)
console = Console()
T = TypeVar("T")


def _run(action: Callable[[AuthService], Awaitable[T]]) -> T:
    """Run `action` in one committed transaction; AppErrors exit 1 with their code."""
    settings = get_settings()
    prepare_database(settings)

    async def main() -> T:
        runtime = AuthRuntime.from_settings(settings)
        try:
            async with database(settings) as engine, create_session_factory(engine)() as db:
                service = AuthService(
                    db, settings, runtime.session_store(db), runtime.passwords, runtime.mailer
                )
                result = await action(service)
                await db.commit()
                return result
        finally:
            await runtime.close()

    try:
        return asyncio.run(main())
    except AppError as exc:
        console.print(f"[red]{exc.code}[/]: {exc.message}")
        raise typer.Exit(1) from None


async def _by_email(service: AuthService, email: str) -> User:
    user = await service.find_by_email(email)
    if user is None:
        console.print(f"[red]no user with email {email}[/]")
        raise typer.Exit(1)
    return user


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The admin's email (sign-in name)")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="ALLIN_ADMIN_PASSWORD",
            help="Prompted when not given (or ALLIN_ADMIN_PASSWORD)",
        ),
    ],
    display_name: Annotated[str | None, typer.Option(help="Shown in the dashboard")] = None,
) -> None:
    """Create an active administrator (no email verification: you run the server)."""

    async def action(service: AuthService) -> User:
        return await service.create_user(
            email, password, display_name, role=Role.ADMIN, active=True
        )

    user = _run(action)
    console.print(f"admin [green]{user.email}[/] created ({user.id})")


@app.command("list")
def list_users(
    status: Annotated[UserStatus | None, typer.Option(help="Only this status")] = None,
) -> None:
    """List accounts."""

    async def action(service: AuthService) -> list[User]:
        query = select(User).order_by(User.created_at, User.email)
        if status is not None:
            query = query.where(User.status == status)
        return list(await service.db.scalars(query))

    # Plain aligned lines: readable, and grep/awk-friendly (no wrapping in narrow terminals).
    users = _run(action)
    width = max([len(u.email) for u in users] + [5])
    console.print(
        f"{'email':<{width}}  role   plan      status                created           id"
    )
    for u in users:
        created = u.created_at.strftime("%Y-%m-%d %H:%M")
        console.print(
            f"{u.email:<{width}}  {u.role:<5}  {u.plan:<8}  {u.status:<20}  {created}  {u.id}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


def _set_status(email: str, status: UserStatus) -> None:
    async def action(service: AuthService) -> None:
        await service.set_status(await _by_email(service, email), status)

    _run(action)
    console.print(f"{email}: [bold]{status}[/]")


@app.command()
def suspend(email: Annotated[str, typer.Argument(help="The account's email")]) -> None:
    """Suspend an account and sign out all its sessions."""
    _set_status(email, UserStatus.SUSPENDED)


@app.command()
def activate(email: Annotated[str, typer.Argument(help="The account's email")]) -> None:
    """Activate an account (marks its email verified)."""
    _set_status(email, UserStatus.ACTIVE)
