"""The EulerStream-compatible fetch routes: v1 `/webcast/fetch` (with and without the slash
Python 6.x adds) and v2 `/webcast/rooms/{room_id}/connect` (Node >= 2.4). Errors are Euler's
`{code, message}` JSON, which both EulerStream clients parse, not AllIN's envelope."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from allin.core.domain import app_state
from allin.sign.fetch import FetchedWebcast, WebcastFetcher, parse_query
from allin.sign.responses import SignError
from allin.sign.service import SignService

router = APIRouter(tags=["sign"])
PROTOBUF = "application/protobuf"
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {PROTOBUF: {}}, "description": "Raw ProtoMessageFetchResult"},
    400: {"description": "No usable room_id / unique_id: JSON {code, message}"},
    401: {"model": SignError, "description": "The API key given is invalid, expired or revoked"},
    404: {"description": "unique_id not found on TikTok: JSON {code, message}"},
    429: {"description": "Rate limited: JSON {code, message, limit_label}"},
    500: {"description": "TikTok's answer was empty or not connectable: JSON {code, message}"},
    502: {"description": "TikTok unreachable or refused: JSON {code, message}"},
}


def fetcher_for(request: Request) -> WebcastFetcher:
    """The sign service's fetcher: its signer, TikTok's configured hosts. An app serving these
    routes without the sign service (the LIVE simulator) overrides this dependency."""
    return app_state(request.app).get(SignService).fetcher(request)


Fetcher = Annotated[WebcastFetcher, Depends(fetcher_for)]


async def _answer(
    request: Request, fetcher: WebcastFetcher, room_id: str | None = None
) -> Response:
    """The fetch result; a FetchError is answered as Euler's `{code, message}` by the sign
    domain's error handler."""
    fetched = await fetcher.fetch(parse_query(request.query_params, room_id))
    return _protobuf(fetched, uuid.uuid4().hex)


def _protobuf(fetched: FetchedWebcast, request_id: str) -> Response:
    return Response(
        content=fetched.body,
        media_type=PROTOBUF,
        headers={
            "X-Set-TT-Cookie": fetched.tt_cookie_header(),
            "x-room-id": str(fetched.room_id),
            "X-Request-Id": request_id,
            "X-Agent-Id": "allin",
        },
    )


@router.get(
    "/webcast/fetch", summary="Fetch a room's first webcast payload (Euler v1)", responses=RESPONSES
)
async def webcast_fetch(request: Request, fetcher: Fetcher) -> Response:
    """Query: `room_id` (or `unique_id`), `cursor`, `user_agent`, `client_enter`; `client`,
    `platform`, `country` and API keys are accepted and ignored."""
    return await _answer(request, fetcher)


@router.get("/webcast/fetch/", include_in_schema=False)
async def webcast_fetch_slash(request: Request, fetcher: Fetcher) -> Response:
    return await _answer(request, fetcher)


@router.get(
    "/webcast/rooms/{room_id}/connect",
    summary="Fetch a room's first webcast payload (Euler v2)",
    responses=RESPONSES,
)
async def webcast_room_connect(request: Request, fetcher: Fetcher, room_id: str) -> Response:
    return await _answer(request, fetcher, room_id)
