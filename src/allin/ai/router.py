"""The AI API. Each writing endpoint has a streaming twin (`/stream`, Server-Sent Events):
`delta` events carry text as it arrives, `done` the same result the plain endpoint returns
(usage and credits left included), `error` a clean failure with every credit refunded."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from allin.ai.schemas import (
    AnalyzeIn,
    AnalyzeOut,
    CreditsOut,
    DraftIn,
    DraftOut,
    GenerateIn,
    GenerateOut,
    ImproveIn,
    ImproveOut,
    LiveRecapIn,
    LiveRecapOut,
    PreferencesIn,
    UsageRow,
)
from allin.ai.service import AiService, Event
from allin.auth.deps import AdminUser, CurrentUser
from allin.auth.models import User
from allin.core.clock import utcnow
from allin.core.deps import DbSession
from allin.core.domain import app_state
from allin.core.schemas import Envelope, ok

router = APIRouter(prefix="/api/ai", tags=["ai"])


def ai_service(request: Request) -> AiService:
    return app_state(request.app).get(AiService)


async def _caller(user: CurrentUser, db: DbSession) -> User:
    # A provider call takes seconds: hand the request's database connection back to the pool
    # before it (the ledger takes its own short transactions), or a burst of AI requests
    # would hold every pooled connection while waiting for one.
    await db.commit()
    return user


Caller = Annotated[User, Depends(_caller)]

STREAM_DOC = (
    "Server-Sent Events: `delta` {text} as tokens arrive, then `done` with the full result "
    "(usage, credits left), or one `error` {code, message, details} (credits refunded). "
    "Out of credits is answered before the stream starts (402 AI_002)."
)


def _sse(events: AsyncIterator[Event]) -> EventSourceResponse:
    async def body() -> AsyncIterator[ServerSentEvent]:
        async for name, data in events:
            yield ServerSentEvent(
                data=json.dumps(data, ensure_ascii=False, separators=(",", ":")), event=name
            )

    return EventSourceResponse(body(), ping=15)


@router.post("/generate", summary="Post variants per platform from a topic, text or URL")
async def generate(body: GenerateIn, request: Request, user: Caller) -> Envelope[GenerateOut]:
    return ok(await ai_service(request).generate(user, body))


@router.post(
    "/generate/stream",
    summary="Generate, streamed",
    description=STREAM_DOC + " Each variant starts with a `variant` event and ends in `result`.",
    response_class=EventSourceResponse,
)
async def generate_stream(body: GenerateIn, request: Request, user: Caller) -> Any:
    return _sse(await ai_service(request).generate_stream(user, body))


@router.post("/improve-content", summary="Rewrite a post towards a goal")
async def improve(body: ImproveIn, request: Request, user: Caller) -> Envelope[ImproveOut]:
    return ok(await ai_service(request).improve(user, body))


@router.post(
    "/improve-content/stream",
    summary="Improve, streamed",
    description=STREAM_DOC,
    response_class=EventSourceResponse,
)
async def improve_stream(body: ImproveIn, request: Request, user: Caller) -> Any:
    return _sse(await ai_service(request).improve_stream(user, body))


@router.post("/analyze-content", summary="Platform checks and the model's assessment")
async def analyze(body: AnalyzeIn, request: Request, user: Caller) -> Envelope[AnalyzeOut]:
    return ok(await ai_service(request).analyze(user, body))


@router.post(
    "/analyze-content/stream",
    summary="Analyse, streamed",
    description=STREAM_DOC + " A `checks` event with the deterministic checks comes first.",
    response_class=EventSourceResponse,
)
async def analyze_stream(body: AnalyzeIn, request: Request, user: Caller) -> Any:
    return _sse(await ai_service(request).analyze_stream(user, body))


@router.post("/live-recap", summary="Draft a thank-you recap of a captured LIVE session")
async def live_recap(
    body: LiveRecapIn, request: Request, user: CurrentUser
) -> Envelope[LiveRecapOut]:
    return ok(await ai_service(request).live_recap(user, body))


@router.post("/drafts", summary="Save a text as a draft post", status_code=201)
async def save_draft(body: DraftIn, request: Request, user: Caller) -> Envelope[DraftOut]:
    return ok(await ai_service(request).save_draft(user, body))


@router.get("/drafts", summary="Your drafts, newest first")
async def list_drafts(
    request: Request, user: Caller, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> Envelope[list[DraftOut]]:
    return ok(await ai_service(request).drafts.list(user.id, limit))


@router.get("/drafts/{draft_id}", summary="One of your drafts")
async def get_draft(draft_id: uuid.UUID, request: Request, user: Caller) -> Envelope[DraftOut]:
    return ok(await ai_service(request).drafts.get(user.id, draft_id))


@router.delete("/drafts/{draft_id}", summary="Delete one of your drafts")
async def delete_draft(
    draft_id: uuid.UUID, request: Request, user: CurrentUser
) -> Envelope[dict[str, bool]]:
    await ai_service(request).drafts.delete(user.id, draft_id)
    return ok({"deleted": True})


@router.get("/credits", summary="This month's AI credits")
async def credits(request: Request, user: Caller) -> Envelope[CreditsOut]:
    return ok(await ai_service(request).credits(user))


@router.put("/preferences", summary="Your time zone (when the credit month starts)")
async def preferences(
    body: PreferencesIn, request: Request, user: CurrentUser
) -> Envelope[CreditsOut]:
    service = ai_service(request)
    await service.ledger.set_time_zone(user.id, body.time_zone)
    return ok(await service.credits(user))


@router.get("/admin/usage", summary="AI usage per user and provider (admins)")
async def admin_usage(
    request: Request, _: AdminUser, days: Annotated[int, Query(ge=1, le=366)] = 31
) -> Envelope[list[UsageRow]]:
    since = utcnow() - timedelta(days=days)
    return ok(await ai_service(request).usage_report(since))
