"""The one HTTP client factory: timeouts, user agent and correlation ID on every call."""

from __future__ import annotations

from typing import Any

import httpx

from allin import __version__
from allin.core.logging import CORRELATION_HEADER, current_correlation_id

USER_AGENT = f"AllIN/{__version__} (+https://github.com/allin)"


async def _add_correlation_id(request: httpx.Request) -> None:
    correlation_id = current_correlation_id()
    if correlation_id and CORRELATION_HEADER not in request.headers:
        request.headers[CORRELATION_HEADER] = correlation_id


def create_http_client(
    *,
    base_url: str = "",
    timeout: float = 15.0,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.AsyncClient:
    merged = {"User-Agent": USER_AGENT, **(headers or {})}
    hooks = kwargs.pop("event_hooks", {})
    hooks.setdefault("request", []).append(_add_correlation_id)
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        headers=merged,
        event_hooks=hooks,
        **kwargs,
    )
