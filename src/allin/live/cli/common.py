"""What the `allin live` commands share: the LIVE client's options (TikTok, or the built-in
simulator with `--demo`), users by email, and durations and counts as shown."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from allin.auth.models import User
from allin.auth.service import normalise_email
from allin.core.config import get_settings
from allin.db.cli import CliError

if TYPE_CHECKING:
    from allin.live.client import LiveClientOptions


SimulatedLive = Callable[[], AbstractAsyncContextManager["LiveClientOptions"]]
"""Starts a simulated TikTok LIVE for `--demo` and yields client options aimed at it."""

_simulated: list[SimulatedLive] = []


def provide_simulated_live(factory: SimulatedLive) -> None:
    """The composition layer (the `allin` command) hands `--demo` its simulated TikTok."""
    _simulated[:] = [factory]


@asynccontextmanager
async def client_options(demo: bool) -> AsyncIterator[LiveClientOptions]:
    from allin.live.client import LiveClientOptions

    if not demo:
        yield LiveClientOptions.from_settings(get_settings())
        return
    if not _simulated:
        raise CliError("--demo needs the built-in simulator, which this command was not given")
    async with _simulated[0]() as options:
        yield options


async def user_by_email(db: AsyncSession, email: str) -> User:
    user = await db.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise CliError(f"no user with email {email} (`allin users list` shows them)")
    return user


def type_counts(counters: dict[str, int]) -> str:
    ordered = sorted(counters.items(), key=lambda item: (-item[1], item[0]))
    return "  ".join(f"{kind} {count:,}" for kind, count in ordered)


def duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"
