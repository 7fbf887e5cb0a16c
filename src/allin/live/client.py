"""The async TikTok LIVE client: resolve the room, ask the sign provider for the first fetch,
hold the WebSocket (heartbeats, acks), reconnect with backoff resuming from the cursor, fall
back to polling when TikTok refuses the socket. The protocol decisions live in the pure
`LiveConnection`; this module only does I/O.

    client = LiveClient("@someone")
    async for event in client.events():      # or: client.on("chat", handler); await client.run()
        print(event.type, event.to_dict())
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import random
import ssl
from collections import defaultdict
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Any, Self

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.typing import Subprotocol

from allin.core.clock import clock
from allin.core.config import Settings, get_settings
from allin.core.logging import Category, get_logger
from allin.live.connection import Backoff, LiveConnection, State
from allin.live.errors import (
    InvalidResponseError,
    LiveError,
    NetworkError,
    SignProviderError,
    SignRateLimitedError,
    UserOfflineError,
    WebSocketRejectedError,
)
from allin.live.protocol import LiveEvent, decode_fetch_result
from allin.live.sign_provider import DEFAULT_SIGN_URL, SignProvider
from allin.live.usernames import normalize_username
from allin.live.web import (
    DEFAULT_WEB_URL,
    DEFAULT_WEBCAST_URL,
    OFFLINE_STATUS,
    BrowserProfile,
    TikTokWeb,
    cookie_header,
    tls_verify,
)

log = get_logger(Category.LIVE)
Handler = Callable[[LiveEvent], Awaitable[None] | None]
ALL_EVENTS = "*"


@dataclass(frozen=True, slots=True)
class LiveClientOptions:
    """Where TikTok and the sign provider are, and how hard to try."""

    web_url: str = DEFAULT_WEB_URL
    webcast_url: str = DEFAULT_WEBCAST_URL
    sign_url: str = DEFAULT_SIGN_URL
    sign_api_key: str | None = None
    profile: BrowserProfile = field(default_factory=BrowserProfile)
    room_id: int | None = None  # skip the room-id lookup
    check_live: bool = True
    fetch_room_info: bool = True  # also detects age-restricted rooms
    polling_fallback: bool = True
    max_reconnects: int = 10  # consecutive failed attempts before giving up
    backoff_base: float = 1.0
    backoff_max: float = 30.0
    heartbeat_interval: float | None = None  # None: the server's interval
    stall_timeout: float | None = None  # None: max(30 s, 3 heartbeats)
    timeout: float = 15.0
    dedup_size: int = 10_000
    sign_client: str = "ttlive-python"
    verify: bool | str = True  # TLS verification, or a CA file (the simulator's cert)
    seed: int | None = None  # jitter randomness, for reproducible tests

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> LiveClientOptions:
        key = settings.sign_api_key.get_secret_value() if settings.sign_api_key else None
        base = cls(
            web_url=settings.tiktok_web_url,
            webcast_url=settings.tiktok_webcast_url,
            sign_url=settings.sign_url,
            sign_api_key=key,
            polling_fallback=settings.live_polling_fallback,
            max_reconnects=settings.live_max_reconnects,
            backoff_base=settings.live_backoff_base,
            backoff_max=settings.live_backoff_max,
            timeout=settings.http_timeout,
        )
        return replace(base, **overrides)


@dataclass
class ClientStatus:
    """A live view of the client for status lines and health checks."""

    state: str = State.IDLE.value
    room_id: int | None = None
    transport: str | None = None  # websocket | polling
    viewers: int | None = None
    events: int = 0
    reconnects: int = 0
    connected_at: float | None = None  # monotonic
    close_reason: str | None = None


class _ConnectionLost(Exception):
    """The socket (or opening it) failed in a way a reconnect can fix."""


class LiveClient:
    """One TikTok LIVE room. Raises typed `allin.live.errors` on unrecoverable failures."""

    def __init__(
        self,
        username: str,
        settings: Settings | None = None,
        *,
        options: LiveClientOptions | None = None,
    ) -> None:
        self.username = normalize_username(username)
        self.options = options or LiveClientOptions.from_settings(settings or get_settings())
        self.status = ClientStatus(room_id=self.options.room_id)
        self.connection: LiveConnection | None = None
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._rng = random.Random(self.options.seed)  # noqa: S311 - jitter, not security
        self._running = False
        self._stop = asyncio.Event()
        self._close_reason = "closed"
        self._ws: ClientConnection | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def room_id(self) -> int | None:
        return self.status.room_id

    @property
    def close_reason(self) -> str | None:
        return self.status.close_reason

    # -- consumption -----------------------------------------------------------------------

    def on(self, event_type: str, handler: Handler | None = None) -> Any:
        """Registers `handler` for an event type ("chat", "gift", ... or "*"); usable as a
        decorator. Handlers run before the event is yielded by `events()`."""

        def register(func: Handler) -> Handler:
            self._handlers[event_type].append(func)
            return func

        return register(handler) if handler is not None else register

    async def run(self) -> None:
        """Drives the connection for handlers only, until the stream ends or close()."""
        async with aclosing(self.events()) as stream:
            async for _ in stream:
                pass

    async def events(self) -> AsyncGenerator[LiveEvent, None]:
        """Every event in order, each once, across reconnects; ends when the stream ends
        (then `close_reason` says why) or when close() is called."""
        if self._running:
            raise RuntimeError("this client is already running")
        self._running = True
        self._stop.clear()
        self._close_reason = "closed"
        try:
            async with aclosing(self._session()) as stream:
                async for event in stream:
                    self._count(event)
                    await self._dispatch(event)
                    yield event
        finally:
            self._running = False
            if self.connection is not None:
                self.connection.close(self._close_reason)
                self.status.close_reason = self.connection.end_reason
            self.status.state = (
                State.CLOSED.value if self.connection is None else (self.connection.state.value)
            )

    async def close(self, reason: str = "closed") -> None:
        """Stops the client from any task; `events()` then finishes."""
        # The running loop owns the connection state; it sees the flag and finishes.
        self._close_reason = reason
        self._stop.set()
        ws = self._ws
        if ws is not None:
            await ws.close()

    # -- the session -----------------------------------------------------------------------

    async def _session(self) -> AsyncGenerator[LiveEvent, None]:
        options = self.options
        async with (
            TikTokWeb(
                web_url=options.web_url,
                webcast_url=options.webcast_url,
                profile=options.profile,
                timeout=options.timeout,
                rng=self._rng,
                verify=options.verify,
            ) as web,
            SignProvider(
                options.sign_url,
                options.sign_api_key,
                client=options.sign_client,
                timeout=options.timeout,
                verify=options.verify,
            ) as sign,
        ):
            room_id = await self._prepare(web)
            conn = LiveConnection(
                room_id,
                profile=options.profile,
                dedup_size=options.dedup_size,
                heartbeat_interval=options.heartbeat_interval,
                stall_timeout=options.stall_timeout,
            )
            self.connection = conn
            async with aclosing(self._connect_loop(conn, web, sign)) as stream:
                async for event in stream:
                    yield event

    async def _prepare(self, web: TikTokWeb) -> int:
        self._set_state("resolving")
        room_id = self.options.room_id or await web.fetch_room_id(self.username)
        self.status.room_id = room_id
        if self.options.check_live and not await web.check_alive(room_id):
            raise UserOfflineError(self.username)
        if self.options.fetch_room_info:
            info = await web.fetch_room_info(room_id, self.username)
            if info.get("status") == OFFLINE_STATUS:
                raise UserOfflineError(self.username)
        return room_id

    async def _connect_loop(
        self, conn: LiveConnection, web: TikTokWeb, sign: SignProvider
    ) -> AsyncGenerator[LiveEvent, None]:
        backoff = Backoff(self.options.backoff_base, self.options.backoff_max, self._rng)
        failures = 0
        while not conn.finished and not self._stop.is_set():
            delay: float
            try:
                self._set_state(State.CONNECTING.value)
                signed = await sign.fetch(
                    conn.room_id, user_agent=self.options.profile.user_agent, cursor=conn.cursor
                )
                web.update_cookies(signed.cookies)
                for event in conn.accept_fetch(signed.result):
                    yield event
                if conn.finished:
                    break
                if not conn.push_server or not conn.cursor:
                    # No socket offered (a fallback proxy, or a room TikTok will not push).
                    raise WebSocketRejectedError("no push_server in the fetch result", "")
                async with aclosing(self._websocket(conn, web)) as frames:
                    async for event in frames:
                        failures = 0
                        backoff.reset()
                        yield event
                if conn.finished or self._stop.is_set():
                    break
                delay = backoff.next_delay()
            except WebSocketRejectedError as exc:
                if not self.options.polling_fallback:
                    raise
                log.warning("websocket refused, polling", reason=exc.handshake_msg)
                conn.start_polling()
                async with aclosing(self._poll(conn, web)) as polled:
                    async for event in polled:
                        yield event
                break
            except SignRateLimitedError as exc:
                if self.status.connected_at is None:
                    raise
                delay = max(exc.retry_after, backoff.next_delay())
            except (NetworkError, SignProviderError, InvalidResponseError) as exc:
                if self.status.connected_at is None:
                    raise
                log.warning("reconnect step failed", error=exc.code)
                delay = backoff.next_delay()
            except _ConnectionLost as exc:
                log.info("connection lost", reason=str(exc))
                delay = backoff.next_delay()
            failures += 1
            if failures > self.options.max_reconnects:
                raise NetworkError(f"gave up after {failures - 1} reconnect attempts")
            conn.lost()
            self.status.reconnects += 1
            self._set_state(State.RECONNECTING.value)
            if await self._sleep(delay):
                break
            if self.options.check_live and not await self._still_live(web, conn):
                # Gone while we were away: collect what was said up to the end, then stop.
                async with aclosing(self._drain(conn, web)) as tail:
                    async for event in tail:
                        yield event
                conn.close("offline")

    async def _drain(self, conn: LiveConnection, web: TikTokWeb) -> AsyncGenerator[LiveEvent, None]:
        """One last poll from the cursor (the stream's final messages, its end included)."""
        try:
            body = await web.fetch_im(
                conn.room_id, cursor=conn.cursor, internal_ext=conn.internal_ext
            )
        except LiveError:
            return
        for event in conn.accept_fetch(decode_fetch_result(body)):
            yield event

    async def _still_live(self, web: TikTokWeb, conn: LiveConnection) -> bool:
        try:
            return await web.check_alive(conn.room_id)
        except LiveError:
            return True  # can't tell; the next fetch will

    async def _websocket(
        self, conn: LiveConnection, web: TikTokWeb
    ) -> AsyncGenerator[LiveEvent, None]:
        ws = await self._open(conn, web)
        self._ws = ws
        heartbeats: asyncio.Task[None] | None = None
        try:
            options = ws.response.headers.get("Handshake-Options") if ws.response else None
            await ws.send(conn.opened(options))
            self.status.transport = "websocket"
            self.status.connected_at = clock.monotonic()
            self._set_state(State.CONNECTED.value)
            heartbeats = asyncio.create_task(self._heartbeats(ws, conn))
            while not conn.finished and not self._stop.is_set():
                try:
                    # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel.
                    async with asyncio.timeout(conn.stall_timeout):
                        data = await ws.recv()
                except TimeoutError as exc:
                    raise _ConnectionLost("no frames: stalled") from exc
                if isinstance(data, str) or self._stop.is_set():
                    continue
                outcome = conn.receive(data)
                lost: ConnectionClosed | None = None
                if outcome.ack is not None:
                    try:
                        await ws.send(outcome.ack)
                    except ConnectionClosed as exc:
                        lost = exc  # the frame's events still count: the cursor moved
                for event in outcome.events:
                    yield event
                if lost is not None:
                    raise lost
        except ConnectionClosed as exc:
            if not self._stop.is_set():
                raise _ConnectionLost(f"closed: {exc.rcvd.code if exc.rcvd else 1006}") from exc
        finally:
            self._ws = None
            if heartbeats is not None:
                heartbeats.cancel()
                await asyncio.gather(heartbeats, return_exceptions=True)
            with contextlib.suppress(Exception):
                await ws.close()

    async def _open(self, conn: LiveConnection, web: TikTokWeb) -> ClientConnection:
        url = conn.websocket_url()
        try:
            return await connect(
                url,
                additional_headers={"Cookie": cookie_header(web.cookies)},
                user_agent_header=self.options.profile.user_agent,
                subprotocols=[Subprotocol("echo-protocol")],
                ping_interval=None,  # TikTok answers no pings; it wants "hb" frames
                open_timeout=self.options.timeout,
                max_size=None,
                # Never stop reading the socket because the consumer is slow: TikTok's rate
                # is low, and a paused reader would also stall the closing handshake.
                max_queue=None,
                close_timeout=2.0,
                ssl=_ssl_context(self.options.verify) if url.startswith("wss:") else None,
            )
        except InvalidStatus as exc:
            response = exc.response
            msg = response.headers.get("Handshake-Msg")
            if response.status_code == 200 or msg is not None:
                raise WebSocketRejectedError(
                    msg or "",
                    response.headers.get("Handshake-Status", ""),
                    http_status=response.status_code,
                ) from exc
            raise _ConnectionLost(f"handshake HTTP {response.status_code}") from exc
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            raise _ConnectionLost(f"cannot open: {type(exc).__name__}") from exc

    async def _heartbeats(self, ws: ClientConnection, conn: LiveConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            while conn.state is State.CONNECTED:
                await ws.send(conn.heartbeat())
                await asyncio.sleep(conn.heartbeat_interval)

    async def _poll(self, conn: LiveConnection, web: TikTokWeb) -> AsyncGenerator[LiveEvent, None]:
        """webcast/im/fetch from the cursor at TikTok's fetch_interval."""
        self.status.transport = "polling"
        self.status.connected_at = self.status.connected_at or clock.monotonic()
        self._set_state(State.POLLING.value)
        backoff = Backoff(self.options.backoff_base, self.options.backoff_max, self._rng)
        failures = 0
        while not conn.finished and not self._stop.is_set():
            try:
                body = await web.fetch_im(
                    conn.room_id, cursor=conn.cursor, internal_ext=conn.internal_ext
                )
            except (NetworkError, InvalidResponseError):
                failures += 1
                if failures > self.options.max_reconnects:
                    raise
                if await self._sleep(backoff.next_delay()):
                    return
                continue
            failures = 0
            backoff.reset()
            for event in conn.accept_fetch(decode_fetch_result(body)):
                yield event
            if await self._sleep(conn.poll_interval):
                return

    # -- helpers ---------------------------------------------------------------------------

    async def _sleep(self, seconds: float) -> bool:
        """Sleeps unless close() is called first; returns whether it was."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stop.wait()
        return self._stop.is_set()

    def _set_state(self, state: str) -> None:
        self.status.state = state

    def _count(self, event: LiveEvent) -> None:
        self.status.events += 1
        if self.connection is not None:
            self.status.viewers = self.connection.viewers
            if self.connection.finished:
                self.status.state = self.connection.state.value
                self.status.close_reason = self.connection.end_reason

    async def _dispatch(self, event: LiveEvent) -> None:
        for handler in (*self._handlers.get(event.type, ()), *self._handlers.get(ALL_EVENTS, ())):
            try:
                result = handler(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("event handler failed", event_type=event.type)


def _ssl_context(verify: bool | str) -> ssl.SSLContext:
    setting = tls_verify(verify)
    if isinstance(setting, ssl.SSLContext):
        return setting
    context = ssl.create_default_context()
    if not setting:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
