"""An AllIN server whose LIVE source never stops talking, for the crash test:
`python -m tests.live.capture.crash_app PORT` (settings from ALLIN_* variables)."""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import AsyncIterator

import uvicorn

from allin.app import create_app
from allin.core.config import Settings
from allin.core.domain import app_state
from allin.live.capture import OpenedStream, StreamerProfile
from allin.live.domain import LiveSources
from allin.live.protocol import LiveEvent
from tests.live.capture.support import chat


class TickingSource:
    """A chat message every few milliseconds until closed."""

    def __init__(self) -> None:
        self.closed = False

    async def events(self) -> AsyncIterator[LiveEvent]:
        for n in itertools.count():
            if self.closed:
                return
            yield chat(n % 50, f"tick {n}")
            await asyncio.sleep(0.002)

    async def close(self) -> None:
        self.closed = True


class TickingSources:
    async def open(self, username: str) -> OpenedStream:
        return OpenedStream(
            StreamerProfile(username=username), "7400000000000000001", TickingSource()
        )

    async def live_status(self, usernames: list[str]) -> dict[str, bool]:
        return dict.fromkeys(usernames, True)


def main() -> None:
    app = create_app(Settings())
    app_state(app).provide(LiveSources(TickingSources()))
    port = int(sys.argv[1])
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")


if __name__ == "__main__":
    main()
