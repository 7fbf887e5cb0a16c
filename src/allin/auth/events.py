"""What other domains hear from accounts without accounts knowing them: hooks registered at
start-up and awaited when something happens to a user (today: a suspension).

Hooks run after the change is committed; one failing hook is logged and does not keep the
others from running."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from allin.core.logging import Category, get_logger

log = get_logger(Category.AUTH)

UserHook = Callable[[uuid.UUID], Awaitable[None]]


class UserEvents:
    def __init__(self) -> None:
        self._on_suspended: list[UserHook] = []

    def on_suspended(self, hook: UserHook) -> Callable[[], None]:
        """Registers `hook(user_id)`; returns the function that unregisters it."""
        self._on_suspended.append(hook)

        def remove() -> None:
            if hook in self._on_suspended:
                self._on_suspended.remove(hook)

        return remove

    async def suspended(self, user_id: uuid.UUID) -> None:
        for hook in list(self._on_suspended):
            try:
                await hook(user_id)
            except Exception as exc:
                log.error("user suspended hook failed", user_id=str(user_id), error=repr(exc))


# One per process: every app in it hears of suspensions made by any of them.
user_events = UserEvents()
