"""Background tasks that keep the request's log context (correlation ID) and never vanish."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from allin.core.logging import Category, get_logger

_running: set[asyncio.Task[Any]] = set()
log = get_logger(Category.CORE)


def run_in_background(coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
    """Start `coro` as a task. asyncio copies contextvars at creation, so the caller's
    correlation ID stays bound in every log line the task writes."""
    task = asyncio.create_task(coro, name=name)
    _running.add(task)
    task.add_done_callback(_finished)
    return task


def _finished(task: asyncio.Task[Any]) -> None:
    _running.discard(task)
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.error("background task failed", task=task.get_name(), exc_info=exc)


async def drain_background_tasks(grace_seconds: float = 5.0) -> None:
    """Give running tasks a chance to finish at shutdown, then cancel the rest."""
    if not _running:
        return
    _, pending = await asyncio.wait(set(_running), timeout=grace_seconds)
    for task in pending:
        task.cancel()
