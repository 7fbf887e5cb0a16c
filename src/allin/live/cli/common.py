"""What the `allin live` commands share: the LIVE client's options (TikTok, or the built-in
simulator with `--demo`), users by email, and durations and counts as shown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from allin.auth.models import User
from allin.auth.service import normalise_email
from allin.core.config import get_settings
from allin.db.cli import CliError

if TYPE_CHECKING:
    from allin.live.client import LiveClientOptions


@asynccontextmanager
async def client_options(demo: bool) -> AsyncIterator[LiveClientOptions]:
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
