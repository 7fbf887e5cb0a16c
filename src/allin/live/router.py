"""The LIVE API: sessions, events, analytics, real time (SSE, WebSocket), export, streamers,
watchlist and replay. Every session belongs to the user who started it; others get 404."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response, WebSocket
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocketDisconnect

from allin.auth.deps import CurrentUser, owned_or_404, resolve_principal
from allin.auth.errors import NotAuthenticatedError
from allin.auth.models import User
from allin.auth.runtime import auth_runtime
from allin.core.deps import DbSession
from allin.core.domain import app_state
from allin.core.errors import AppError, BadRequestError
from allin.core.schemas import Envelope, ErrorEnvelope, IsoDateTime, PageMeta, ok
from allin.live import analytics
from allin.live.export import MEDIA_TYPES, ExportFormat, export_filename, export_stream
from allin.live.models import LiveSession
from allin.live.schemas import (
    AnalyticsOut,
    EventOut,
    SessionCreate,
    SessionOut,
    StreamerDetailOut,
    StreamerOut,
    WatchlistCreate,
    WatchlistOut,
    normalise_username,
)
from allin.live.service import (
    EventFilter,
    LiveService,
    SessionFilter,
    StreamItem,
    event_raw,
    follow_session,
    get_streamer,
    list_sessions,
    list_streamers,
    query_events,
    replay_session,
    resolve_user,
)
from allin.live.watchlist import add_entry, list_entries, remove_entry


def live_service(conn: HTTPConnection) -> LiveService:
    return app_state(conn.app).get(LiveService)


def _errors(*codes: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorEnvelope, "description": text} for code, text in codes}


router = APIRouter(
    prefix="/api",
    tags=["live"],
    responses=_errors(
        (401, "Not signed in, or the token/key is invalid"),
        (403, "Account suspended or not verified"),
        (404, "No such session (or not yours)"),
    ),
)
_START_ERRORS = _errors(
    (409, "Not live (LIVE_USER_OFFLINE) or already capturing (LIVE_ALREADY_CAPTURING)"),
    (429, "TikTok or the sign provider rate-limited us"),
    (502, "TikTok answered something unusable"),
    (503, "Capture limit reached, or TikTok unreachable"),
)

SessionId = Annotated[uuid.UUID, "session"]
Page = Annotated[int, Query(ge=1, le=100_000)]
Limit = Annotated[int, Query(ge=1, le=200)]
Types = Annotated[
    list[str] | None,
    Query(alias="type", description="Event types (repeat or comma-separate): chat,gift,like,…"),
]


def _types(values: list[str] | None) -> frozenset[str] | None:
    if not values:
        return None
    types = frozenset(t.strip() for v in values for t in v.split(",") if t.strip())
    return types or None


async def _connection_user(conn: HTTPConnection, access_token: str | None) -> User:
    """The caller of a stream, download or WebSocket: the usual credentials (Authorization,
    x-api-key) or `?access_token=`, because browsers cannot set headers on EventSource,
    WebSocket or a download link."""
    raw = _header_credentials(conn) or access_token
    if not raw:
        raise NotAuthenticatedError()
    state = app_state(conn.app)
    async with state.session_factory() as db:
        store = auth_runtime(conn.app).session_store(db)
        bearer = HTTPAuthorizationCredentials(scheme="Bearer", credentials=raw)
        principal = await resolve_principal(db, state.settings, store, bearer, None)
    if principal is None:
        raise NotAuthenticatedError()
    return principal.user


def _header_credentials(conn: HTTPConnection) -> str | None:
    authorization = conn.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return conn.headers.get("x-api-key") or None


async def _link_user(
    request: HTTPConnection,
    access_token: Annotated[
        str | None, Query(description="Access token or API key, for browsers (EventSource)")
    ] = None,
) -> User:
    return await _connection_user(request, access_token)


LinkUser = Annotated[User, Depends(_link_user)]


async def _owned(db: AsyncSession, session_id: uuid.UUID, user: Any) -> LiveSession:
    session: LiveSession = await owned_or_404(db, LiveSession, session_id, user)
    return session


# -- sessions ----------------------------------------------------------------------------------


@router.post(
    "/sessions",
    status_code=201,
    summary="Start capturing a streamer's LIVE",
    responses=_START_ERRORS,
)
async def create_session(
    body: SessionCreate, request: Request, user: CurrentUser
) -> Envelope[SessionOut]:
    session = await live_service(request).captures.start(user.id, body.username)
    return ok(SessionOut.of(session))


@router.get("/sessions", summary="Your sessions, newest first")
async def get_sessions(
    db: DbSession,
    user: CurrentUser,
    status: Literal["active", "ended", "interrupted"] | None = None,
    streamer: Annotated[str | None, Query(max_length=64)] = None,
    since: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
    page: Page = 1,
    limit: Limit = 20,
) -> Envelope[list[SessionOut]]:
    filters = SessionFilter(
        status, streamer.lower().lstrip("@") if streamer else None, since, until
    )
    rows, total = await list_sessions(db, user.id, filters, page=page, limit=limit)
    return ok([SessionOut.of(s) for s in rows], PageMeta(page=page, limit=limit, total=total))


@router.get("/sessions/{session_id}", summary="One session")
async def get_session(
    session_id: uuid.UUID, db: DbSession, user: CurrentUser
) -> Envelope[SessionOut]:
    return ok(SessionOut.of(await _owned(db, session_id, user)))


@router.delete("/sessions/{session_id}", summary="End a session (stops its capture)")
async def end_session(
    session_id: uuid.UUID, request: Request, db: DbSession, user: CurrentUser
) -> Envelope[SessionOut]:
    session = await _owned(db, session_id, user)
    session = await live_service(request).end_session(db, session)
    return ok(SessionOut.of(session))


# -- events and analytics ----------------------------------------------------------------------


@router.get("/sessions/{session_id}/events", summary="Stored events, filtered, cursor-paginated")
async def get_events(
    session_id: uuid.UUID,
    db: DbSession,
    user: CurrentUser,
    types: Types = None,
    user_filter: Annotated[
        str | None, Query(alias="user", max_length=64, description="User id or @handle")
    ] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in the message")] = None,
    since: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
    cursor: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    order: Literal["asc", "desc"] = "asc",
) -> Envelope[list[EventOut]]:
    await _owned(db, session_id, user)
    user_ids = await resolve_user(db, session_id, user_filter) if user_filter else None
    filters = EventFilter(_types(types), user_ids, q, since, until)
    events, next_cursor = await query_events(
        db, session_id, filters, cursor=cursor, limit=limit, order=order
    )
    meta = PageMeta(limit=limit, next_cursor=None if next_cursor is None else str(next_cursor))
    return ok([EventOut.model_validate(e) for e in events], meta)


@router.get(
    "/sessions/{session_id}/events/{event_id}/raw",
    summary="An event's original protobuf bytes",
    response_class=Response,
    responses={200: {"content": {"application/x-protobuf": {}}}},
)
async def get_event_raw(
    session_id: uuid.UUID, event_id: int, db: DbSession, user: CurrentUser
) -> Response:
    await _owned(db, session_id, user)
    raw = await event_raw(db, session_id, event_id)
    return Response(raw, media_type="application/x-protobuf")


@router.get("/sessions/{session_id}/analytics", summary="Statistics of a session")
async def get_analytics(
    session_id: uuid.UUID,
    request: Request,
    db: DbSession,
    user: CurrentUser,
    top: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Envelope[AnalyticsOut]:
    session = await _owned(db, session_id, user)
    rate = live_service(request).settings.live_diamond_usd
    return ok(await analytics.session_analytics(db, session, diamond_usd=rate, top=top))


# -- real time ---------------------------------------------------------------------------------


def _sse(item: StreamItem) -> ServerSentEvent:
    data = json.dumps(item.data, ensure_ascii=False, separators=(",", ":"))
    if item.kind == "event":
        return ServerSentEvent(data=data, id=str(item.id))
    return ServerSentEvent(data=data, event=item.kind)


def _resume_id(header: str | None, query: int | None) -> int | None:
    if header is not None and header.strip():
        try:
            return max(0, int(header.strip()))
        except ValueError as exc:
            raise BadRequestError("Last-Event-ID must be an event id") from exc
    return query


@router.get(
    "/sessions/{session_id}/stream",
    summary="Real-time events (Server-Sent Events)",
    response_class=EventSourceResponse,
    description=(
        "Each stored event is an SSE message with `id:` = event id and JSON `data:`. "
        "Reconnect with `Last-Event-ID` (or `?last_event_id=`) to resume with no gap. "
        "Named events: `session` (summary, first), `status` (ended/interrupted/resumed). "
        "Heartbeat comments keep proxies from closing an idle stream."
    ),
)
async def stream_session(
    session_id: uuid.UUID,
    request: Request,
    db: DbSession,
    user: LinkUser,
    types: Types = None,
    last_event_id: Annotated[int | None, Query(ge=0)] = None,
    backlog: Annotated[int, Query(ge=0, le=1000)] = 0,
    last_event_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> EventSourceResponse:
    await _owned(db, session_id, user)
    service = live_service(request)
    after = _resume_id(last_event_header, last_event_id)
    items = follow_session(
        service.engine,
        service.hub,
        session_id,
        after=after,
        filters=EventFilter(_types(types)),
        backlog=backlog,
    )

    async def body() -> AsyncIterator[ServerSentEvent]:
        async for item in items:
            yield _sse(item)

    return EventSourceResponse(
        body(), ping=service.settings.live_sse_heartbeat, headers={"Cache-Control": "no-store"}
    )


@router.websocket("/sessions/{session_id}/ws")
async def websocket_session(
    websocket: WebSocket,
    session_id: uuid.UUID,
    types: Types = None,
    last_event_id: Annotated[int | None, Query(ge=0)] = None,
    backlog: Annotated[int, Query(ge=0, le=1000)] = 0,
    access_token: str | None = None,
) -> None:
    """The SSE stream as WebSocket JSON messages: `{"kind": "event"|"session"|"status",
    "id": …, "data": {…}}`. Resume with `?last_event_id=`. Unauthenticated or not yours:
    closed before the handshake completes (HTTP 403), nothing is sent."""
    service = live_service(websocket)
    try:
        user = await _connection_user(websocket, access_token)
        async with service.session_factory() as db:
            await _owned(db, session_id, user)
    except AppError as exc:
        await websocket.close(code=4401 if exc.status_code == 401 else 4404, reason=exc.code)
        return
    await websocket.accept()
    items = follow_session(
        service.engine,
        service.hub,
        session_id,
        after=last_event_id,
        filters=EventFilter(_types(types)),
        backlog=backlog,
    )

    async def send() -> None:
        async for item in items:
            await websocket.send_json({"kind": item.kind, "id": item.id, "data": item.data})
        await websocket.close(code=1000)

    async def until_closed() -> None:
        # A quiet stream sends nothing for long stretches: notice the client leaving.
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass

    tasks = {asyncio.create_task(send()), asyncio.create_task(until_closed())}
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, Exception) and not isinstance(result, WebSocketDisconnect):
            raise result


@router.get(
    "/sessions/{session_id}/replay",
    summary="Re-emit a recorded session over SSE with its original timing",
    response_class=EventSourceResponse,
)
async def replay(
    session_id: uuid.UUID,
    request: Request,
    db: DbSession,
    user: LinkUser,
    speed: Annotated[float, Query(ge=1, le=50)] = 1,
    types: Types = None,
    max_gap: Annotated[float | None, Query(gt=0, le=3600, description="Cap pauses (s)")] = None,
) -> EventSourceResponse:
    await _owned(db, session_id, user)
    service = live_service(request)
    events = replay_session(
        service.engine, session_id, speed=speed, filters=EventFilter(_types(types)), max_gap=max_gap
    )

    async def body() -> AsyncIterator[ServerSentEvent]:
        async for event in events:
            yield _sse(StreamItem("event", event, event["id"]))
        yield ServerSentEvent(data="{}", event="end")

    return EventSourceResponse(body(), ping=service.settings.live_sse_heartbeat)


# -- export ------------------------------------------------------------------------------------


@router.get(
    "/sessions/{session_id}/export",
    summary="Download a session (json, ndjson or csv), streamed",
    response_class=StreamingResponse,
)
async def export(
    session_id: uuid.UUID,
    request: Request,
    db: DbSession,
    user: LinkUser,
    format: ExportFormat = "json",  # the public query parameter name
    raw: Annotated[bool, Query(description="Include raw bytes (base64)")] = False,
) -> StreamingResponse:
    session = await _owned(db, session_id, user)
    summary = SessionOut.of(session).model_dump(mode="json")
    body = export_stream(live_service(request).engine, session_id, format, session=summary, raw=raw)
    filename = export_filename(session_id, format)
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return StreamingResponse(body, media_type=MEDIA_TYPES[format], headers=headers)


# -- streamers ---------------------------------------------------------------------------------


@router.get("/streamers", summary="Streamers you have captured")
async def get_streamers(
    db: DbSession,
    user: CurrentUser,
    q: Annotated[str | None, Query(max_length=64)] = None,
    page: Page = 1,
    limit: Limit = 20,
) -> Envelope[list[StreamerOut]]:
    stats, total = await list_streamers(db, user.id, q=q, page=page, limit=limit)
    data = [StreamerOut.of(s.streamer, sessions=s.sessions, capturing=s.capturing) for s in stats]
    return ok(data, PageMeta(page=page, limit=limit, total=total))


@router.get("/streamers/{username}", summary="A streamer's profile and your sessions of them")
async def get_streamer_detail(
    username: str, db: DbSession, user: CurrentUser
) -> Envelope[StreamerDetailOut]:
    try:
        name = normalise_username(username)
    except ValueError as exc:
        raise BadRequestError(str(exc)) from exc
    stats, recent = await get_streamer(db, user.id, name)
    base = StreamerOut.of(stats.streamer, sessions=stats.sessions, capturing=stats.capturing)
    detail = StreamerDetailOut(
        **base.model_dump(), recent_sessions=[SessionOut.of(s) for s in recent]
    )
    return ok(detail)


# -- watchlist ---------------------------------------------------------------------------------


@router.post(
    "/watchlist",
    status_code=201,
    summary="Capture a streamer whenever they go live",
    responses=_errors((409, "Already on your watchlist, or the watchlist is full")),
)
async def watch(body: WatchlistCreate, db: DbSession, user: CurrentUser) -> Envelope[WatchlistOut]:
    entry = await add_entry(db, user.id, body.username)
    return ok(WatchlistOut.of(entry))


@router.get("/watchlist", summary="Your watchlist")
async def get_watchlist(db: DbSession, user: CurrentUser) -> Envelope[list[WatchlistOut]]:
    return ok([WatchlistOut.of(e) for e in await list_entries(db, user.id)])


@router.delete("/watchlist/{username}", summary="Stop watching a streamer")
async def unwatch(username: str, db: DbSession, user: CurrentUser) -> Envelope[dict[str, str]]:
    try:
        name = normalise_username(username)
    except ValueError as exc:
        raise BadRequestError(str(exc)) from exc
    await remove_entry(db, user.id, name)
    return ok({"username": name})
