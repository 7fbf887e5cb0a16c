"""`allin social accounts` and `allin social refresh-tokens` (for cron): the same service the
server runs, on the configured database. Which providers exist is the composer's to say."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from allin.auth.email import create_email_backend
from allin.core.clock import utcnow
from allin.core.config import Settings, get_settings
from allin.core.crypto import cipher_from_settings
from allin.core.units import parse_duration
from allin.db.engine import create_engine, create_session_factory
from allin.social.providers.base import Platform
from allin.social.registry import ProviderFactory, ProviderRegistry
from allin.social.service import SocialAccountsService

ProvidersOf = Callable[[Settings], Mapping[Platform, ProviderFactory]]
console = Console()


def social_cli(providers: ProvidersOf) -> typer.Typer:
    app = typer.Typer(help="Connected social accounts (TikTok, X, LinkedIn, Facebook, Instagram).")

    @asynccontextmanager
    async def service() -> AsyncIterator[SocialAccountsService]:
        settings = get_settings()
        engine = create_engine(settings.effective_database_url)
        registry = ProviderRegistry.from_settings(settings, providers(settings))
        accounts = SocialAccountsService(
            settings,
            create_session_factory(engine),
            registry,
            cipher_from_settings(settings),
            create_email_backend(settings),
        )
        try:
            yield accounts
        finally:
            await accounts.aclose()
            await engine.dispose()

    @app.command("accounts")
    def accounts(
        account: Annotated[
            str | None,
            typer.Option(help="Only this account: id, platform, platform user id or name"),
        ] = None,
    ) -> None:
        """Every connected account: platform, status, token expiry, last error."""

        async def run() -> None:
            async with service() as svc:
                rows = await svc.accounts_matching(account)
            table = Table("id", "platform", "account", "owner", "status", "expires", "last error")
            now = utcnow()
            for row in rows:
                expires = "-"
                if row.token_expires_at is not None:
                    left = row.token_expires_at - now
                    expires = (
                        f"{row.token_expires_at:%Y-%m-%d %H:%M} ({_left(left.total_seconds())})"
                    )
                table.add_row(
                    str(row.id),
                    row.platform,
                    row.username or row.display_name or row.platform_user_id,
                    str(row.owner_id),
                    row.status,
                    expires,
                    row.last_error or "",
                )
            console.print(table)
            console.print(f"{len(rows)} account(s)")

        asyncio.run(run())

    @app.command("refresh-tokens")
    def refresh_tokens(
        expiring_within: Annotated[
            str, typer.Option(help="Refresh accounts expiring within this (e.g. 1d, 6h)")
        ] = "1d",
    ) -> None:
        """Refresh every expired or soon expiring account; remind owners of tokens the
        platform cannot renew, and mark those that ran out EXPIRED. Exit 1 if any failed."""
        try:
            within = parse_duration(expiring_within)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None

        async def run() -> int:
            async with service() as svc:
                report = await svc.refresh_expiring(within)
                lifecycle = await svc.remind_and_expire()
            console.print(
                f"refreshed {len(report.refreshed)}, failed {len(report.failed)}, "
                f"reminded {lifecycle.reminded}, expired {lifecycle.expired}"
            )
            for account_id, code, message in report.failed:
                console.print(f"[red]{account_id}[/] {code}: {message}")
            return 1 if report.failed else 0

        raise typer.Exit(asyncio.run(run()))

    return app


def _left(seconds: float) -> str:
    if seconds <= 0:
        return "expired"
    if seconds >= 86400:
        return f"{seconds / 86400:.0f}d left"
    if seconds >= 3600:
        return f"{seconds / 3600:.0f}h left"
    return f"{seconds / 60:.0f}m left"
