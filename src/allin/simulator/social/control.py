"""The simulators' own control API (`/_simulator/...`), for tests and demos that run a
simulator out of process: inject faults, move the clock, refuse consent. Not part of any
platform's API."""

from __future__ import annotations

from typing import Any, Literal, Protocol

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from allin.core.clock import Clock
from allin.simulator.social.common import Faults, ManualClock

router = APIRouter(prefix="/_simulator", tags=["simulator"])


class Steerable(Protocol):
    faults: Faults
    clock: Clock
    deny_consent: bool


class FaultSpec(BaseModel):
    endpoint: str = Field(
        description="e.g. tweets.create, posts.create, page.feed, ig.media_publish"
    )
    kind: Literal["error", "slow", "rate_limit", "usage_cap", "lost_response", "phantom_error"]
    times: int = Field(default=1, ge=1)
    status: int = Field(default=503, ge=400, le=599)
    delay: float = Field(default=0.0, ge=0, le=600)
    details: dict[str, Any] = Field(default_factory=dict)


class ClockSpec(BaseModel):
    advance: float = Field(ge=0)


class ConsentSpec(BaseModel):
    deny: bool


def _state(request: Request) -> Steerable:
    state: Steerable = request.app.state.sim
    return state


@router.post("/faults", status_code=201)
async def inject(request: Request, spec: FaultSpec) -> dict[str, Any]:
    _state(request).faults.inject(
        spec.endpoint,
        spec.kind,
        times=spec.times,
        status=spec.status,
        delay=spec.delay,
        **spec.details,
    )
    return spec.model_dump()


@router.delete("/faults", status_code=204)
async def clear(request: Request) -> None:
    _state(request).faults.clear()


@router.get("/calls")
async def calls(request: Request) -> dict[str, int]:
    return dict(_state(request).faults.calls)


@router.post("/clock")
async def advance(request: Request, spec: ClockSpec) -> dict[str, float]:
    clock = _state(request).clock
    if not isinstance(clock, ManualClock):
        raise HTTPException(409, "this simulator runs on the real clock")
    clock.advance(spec.advance)
    return {"now": clock.now().timestamp()}


@router.post("/consent")
async def consent(request: Request, spec: ConsentSpec) -> dict[str, bool]:
    _state(request).deny_consent = spec.deny
    return {"deny": spec.deny}
