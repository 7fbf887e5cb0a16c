"""Core routes: health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from allin import __version__
from allin.core.clock import clock
from allin.core.domain import app_state
from allin.core.errors import NotFoundError
from allin.core.health import HealthRegistry, Status
from allin.core.schemas import ErrorEnvelope

router = APIRouter(prefix="/api/health", tags=["health"])
_NO_CACHE = {"Cache-Control": "no-store"}


def _registry(request: Request) -> HealthRegistry:
    return app_state(request.app).health


_UNHEALTHY: dict[int | str, dict[str, Any]] = {
    503: {"description": "A critical service is down (same body, status `unhealthy`)"}
}


@router.get("", summary="Overall health (503 when unhealthy)", responses=_UNHEALTHY)
async def health(request: Request) -> JSONResponse:
    status, results = await _registry(request).run_all()
    report: dict[str, Any] = {
        "status": status.value,
        "services": {name: r.to_dict() for name, r in results.items()},
        "uptime": round(clock.monotonic() - app_state(request.app).started_at, 3),
        "version": __version__,
        "timestamp": clock.now().isoformat(),
    }
    for fields in app_state(request.app).health_fields:
        report.update(await fields(results))
    # Monitors read the top-level fields; API clients read the envelope.
    body = {"success": status is not Status.UNHEALTHY, **report, "data": report}
    code = 503 if status is Status.UNHEALTHY else 200
    return JSONResponse(body, status_code=code, headers=_NO_CACHE)


@router.get(
    "/{service}",
    summary="One service's health, with latency",
    responses={**_UNHEALTHY, 404: {"model": ErrorEnvelope, "description": "No such check"}},
)
async def service_health(request: Request, service: str) -> JSONResponse:
    registry = _registry(request)
    if service not in registry.names():
        raise NotFoundError(
            f"No health check named {service!r}", details={"available": registry.names()}
        )
    result = await registry.run_one(service)
    data = {"service": service, **result.to_dict(), "timestamp": clock.now().isoformat()}
    healthy = result.status is not Status.UNHEALTHY
    body = {"success": healthy, "status": result.status.value, "data": data}
    return JSONResponse(body, status_code=200 if healthy else 503, headers=_NO_CACHE)
