"""One HTTP attempt to TikTok: send, time, log with the correlation ID, map failures to TikTokError.

Retries and the breaker wrap these attempts (`Resilience`); this module decides what a response
means. TikTok reports errors in the body, sometimes with HTTP 200, so the body is always checked.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

import httpx
from structlog.contextvars import bound_contextvars

from allin.core.clock import clock
from allin.core.logging import Category, current_correlation_id, get_logger
from allin.core.retry import parse_retry_after
from allin.tiktok.errors import (
    TikTokError,
    envelope_error,
    error_from_envelope,
    error_from_oauth_body,
    error_from_status,
)
from allin.tiktok.resilience import Resilience

log = get_logger(Category.TIKTOK)
P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def correlated() -> Iterator[str]:
    """Bind a correlation ID for this TikTok operation unless the caller already has one."""
    existing = current_correlation_id()
    if existing:
        yield existing
        return
    from allin.core.logging import new_correlation_id

    correlation_id = "tt-" + new_correlation_id()
    with bound_contextvars(correlation_id=correlation_id):
        yield correlation_id


def with_correlation(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """One correlation ID for a whole multi-call operation (a publish, a reconcile)."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with correlated():
            return await fn(*args, **kwargs)

    return wrapper


def map_transport_error(exc: httpx.TransportError, op: str) -> TikTokError:
    not_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    code = "timeout" if isinstance(exc, httpx.TimeoutException) else "network_error"
    return TikTokError(code, f"{op}: {type(exc).__name__}: {exc}", not_sent=not_sent)


def read_json(response: httpx.Response) -> Any:
    if not response.content:
        return {}
    try:
        return json.loads(response.content)
    except ValueError:
        return None


class Transport:
    def __init__(self, http: httpx.AsyncClient, resilience: Resilience) -> None:
        self.http = http
        self.resilience = resilience

    async def send(self, op: str, request: httpx.Request) -> httpx.Response:
        """One attempt; transport failures become TikTokError. Logs without secrets."""
        started = clock.monotonic()
        try:
            response = await self.http.send(request)
        except httpx.TransportError as exc:
            error = map_transport_error(exc, op)
            log.warning(
                "tiktok call failed",
                op=op,
                error=error.code,
                detail=type(exc).__name__,
                duration_ms=_ms(started),
            )
            raise error from exc
        log.info("tiktok call", op=op, status=response.status_code, duration_ms=_ms(started))
        return response

    async def oauth(
        self,
        op: str,
        url: str,
        form: dict[str, str],
        *,
        expect_token: bool,
        idempotent: bool = True,
    ) -> Any:
        """A form POST to /v2/oauth/*: flat JSON, errors as `{error, error_description, log_id}`."""

        async def attempt() -> Any:
            request = self.http.build_request(
                "POST", url, data=form, headers={"Cache-Control": "no-cache"}
            )
            response = await self.send(op, request)
            body = read_json(response)
            failed = (
                body is None
                or response.status_code >= 400
                or (isinstance(body, dict) and "error" in body and body["error"])
                or (expect_token and not (isinstance(body, dict) and body.get("access_token")))
            )
            if failed:
                raise self._logged(op, error_from_oauth_body(body, response.status_code))
            return body

        return await self.resilience.call(attempt, idempotent=idempotent)

    async def api(
        self,
        op: str,
        method: str,
        url: str,
        *,
        token: str,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """A v2 call with the `{data, error}` envelope; returns `data`."""

        async def attempt() -> dict[str, Any]:
            headers = {"Authorization": f"Bearer {token}"}
            if json_body is not None:
                headers["Content-Type"] = "application/json; charset=UTF-8"
            request = self.http.build_request(
                method, url, params=params, json=json_body, headers=headers
            )
            response = await self.send(op, request)
            return self._envelope_data(op, response)

        return await self.resilience.call(attempt, idempotent=idempotent)

    def _envelope_data(self, op: str, response: httpx.Response) -> dict[str, Any]:
        body = read_json(response)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if envelope_error(body) is not None or response.status_code >= 400:
            raise self._logged(op, error_from_envelope(body, response.status_code, retry_after))
        if not isinstance(body, dict) or not isinstance(body.get("data", {}), dict):
            raise self._logged(
                op,
                TikTokError(
                    "invalid_response", f"{op}: unreadable body", http_status=response.status_code
                ),
            )
        data: dict[str, Any] = body.get("data") or {}
        return data

    async def put_chunk(
        self, op: str, url: str, body: AsyncIterator[bytes], headers: dict[str, str]
    ) -> httpx.Response:
        request = self.http.build_request("PUT", url, content=body, headers=headers)
        return await self.send(op, request)

    @staticmethod
    def _logged(op: str, error: TikTokError) -> TikTokError:
        log.warning(
            "tiktok error",
            op=op,
            code=error.code,
            type=error.type.value,
            status=error.http_status,
            log_id=error.log_id,
            retryable=error.retryable,
        )
        return error


def _ms(started: float) -> float:
    return round((clock.monotonic() - started) * 1000, 1)


__all__ = ["Transport", "correlated", "error_from_status", "map_transport_error", "read_json"]
