"""The simulator's own control API (`/_simulator/...`): add rooms and trigger faults over HTTP,
for users testing their bots against `allin simulator serve`. Not part of TikTok."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from allin.live.errors import InvalidUsernameError
from allin.live.usernames import normalize_username
from allin.simulator.live.rooms import Room, RoomStatus
from allin.simulator.live.scenario import DEFAULT_RATES, Scenario
from allin.simulator.live.simulator import Simulator

router = APIRouter(prefix="/_simulator", tags=["simulator"])


class RoomSpec(BaseModel):
    username: str
    status: RoomStatus = RoomStatus.LIVE
    seed: int | None = None
    duration: float | None = Field(default=None, gt=0)
    rates: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_RATES))


class FaultSpec(BaseModel):
    action: Literal["drop", "stall", "malformed", "unknown", "end", "sign_429", "reject_ws"]
    username: str = "demo_streamer"
    seconds: float = Field(default=5.0, ge=0)
    count: int = Field(default=1, ge=1)
    handshake_msg: str = "DEVICE_BLOCKED"
    handshake_status: str = "415"


def _sim(request: Request) -> Simulator:
    sim: Simulator = request.app.state.simulator
    return sim


def _describe(room: Room, sim: Simulator) -> dict[str, Any]:
    return {
        "username": room.username,
        "room_id": str(room.room_id),
        "status": room.status.value,
        "live": room.is_live,
        "events": room.due(sim.now_ms()),
        "viewers": room.viewer_count,
    }


@router.get("/rooms")
async def list_rooms(request: Request) -> list[dict[str, Any]]:
    sim = _sim(request)
    return [_describe(room, sim) for room in sim.rooms.values()]


@router.post("/rooms", status_code=201)
async def add_room(request: Request, spec: RoomSpec) -> dict[str, Any]:
    sim = _sim(request)
    try:
        username = normalize_username(spec.username)
        scenario = Scenario(rates=spec.rates, duration=spec.duration)
    except (InvalidUsernameError, ValueError) as exc:
        raise HTTPException(422, str(exc)) from exc
    room = sim.add_room(username, status=spec.status, scenario=scenario, seed=spec.seed)
    return _describe(room, sim)


@router.post("/faults")
async def fault(request: Request, spec: FaultSpec) -> dict[str, Any]:
    sim = _sim(request)
    affected: int | str
    try:
        if spec.action == "drop":
            affected = sim.drop_sockets()
        elif spec.action == "stall":
            affected = sim.stall(spec.seconds)
        elif spec.action == "malformed":
            affected = sim.send_malformed()
        elif spec.action == "unknown":
            affected = str(sim.inject_unknown(spec.username).msg_id)
        elif spec.action == "end":
            affected = str(sim.end_stream(spec.username).msg_id)
        elif spec.action == "sign_429":
            sim.faults.sign_rate_limits += spec.count
            sim.faults.sign_retry_after = max(1, round(spec.seconds))
            affected = spec.count
        else:
            sim.faults.ws_rejections += spec.count
            sim.faults.ws_reject_msg = spec.handshake_msg
            sim.faults.ws_reject_status = spec.handshake_status
            affected = spec.count
    except KeyError as exc:
        raise HTTPException(404, str(exc)) from exc
    return {"action": spec.action, "affected": affected}
