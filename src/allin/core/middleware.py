"""Pure ASGI middleware: correlation ID, request log, last-resort 500, body size limit."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from allin.core.clock import clock
from allin.core.errors import AppError, PayloadTooLargeError
from allin.core.logging import (
    CORRELATION_HEADER,
    Category,
    bind_correlation_id,
    clean_correlation_id,
    get_logger,
)
from allin.core.schemas import error_payload

log = get_logger(Category.HTTP)
_HEADER_BYTES = CORRELATION_HEADER.lower().encode()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def send_json_error(send: Send, error: AppError, correlation_id: str | None) -> None:
    body = json.dumps(error_payload(error.code, error.message, error.details)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if correlation_id:
        headers.append((_HEADER_BYTES, correlation_id.encode()))
    headers.extend((k.lower().encode(), v.encode()) for k, v in error.headers.items())
    await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class CorrelationIdMiddleware:
    """Outermost: binds the ID for every log line, echoes it, logs the request, and turns
    any exception that escaped the handlers into an enveloped 500 (never a traceback)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        correlation_id = clean_correlation_id(_header(scope, _HEADER_BYTES))
        structlog.contextvars.clear_contextvars()
        bind_correlation_id(correlation_id)
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        started = clock.monotonic()
        state: dict[str, Any] = {"status": None}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != _HEADER_BYTES]
                headers.append((_HEADER_BYTES, correlation_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error", path=scope.get("path"), method=scope.get("method"))
            if scope["type"] == "http" and state["status"] is None:
                state["status"] = 500
                await send_json_error(send, AppError(), correlation_id)
        finally:
            if scope["type"] == "http":
                log.info(
                    "request",
                    method=scope.get("method"),
                    path=scope.get("path"),
                    status=state["status"],
                    duration_ms=round((clock.monotonic() - started) * 1000, 2),
                )


class BodySizeLimitMiddleware:
    """Rejects bodies over the limit with 413, by Content-Length up front and by counting
    streamed chunks, so an unbounded body can never fill memory."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await send_json_error(send, self._error(), scope["state"].get("correlation_id"))
            return
        received = 0
        exceeded = False
        replaced = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # The framework turns our exception into its own 400; once the limit was hit,
            # whatever it answers is replaced by the 413 the client should see.
            nonlocal replaced
            if exceeded:
                if not replaced:
                    replaced = True
                    await send_json_error(send, self._error(), scope["state"].get("correlation_id"))
                return
            await send(message)

        with contextlib.suppress(_BodyTooLarge):
            await self.app(scope, limited_receive, guarded_send)
        if exceeded and not replaced:
            await send_json_error(send, self._error(), scope["state"].get("correlation_id"))

    def _error(self) -> PayloadTooLargeError:
        return PayloadTooLargeError(
            f"Request body exceeds {self.max_body_bytes} bytes",
            details={"max_bytes": self.max_body_bytes},
        )


class _BodyTooLarge(Exception):
    pass


class ApiHeadersMiddleware:
    """Headers every API answer needs: `nosniff` (a JSON body is never run as a script or
    style), and `Cache-Control: no-store` unless the route chose its own, since API answers
    carry tokens and personal data that no shared or browser cache may keep (OWASP REST)."""

    _PREFIXES = ("/api/", "/webcast/", "/tiktok/", "/accounts/")
    _CACHEABLE = ("/api/docs/static/",)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or not path.startswith(self._PREFIXES)
            or path.startswith(self._CACHEABLE)
        ):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {key.lower() for key, _ in headers}
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
