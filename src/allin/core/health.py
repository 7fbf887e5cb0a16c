"""Health checks: each domain registers its own; critical failures make us unhealthy (503)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from allin.core.clock import clock


class Status(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


@dataclass(slots=True)
class ServiceHealth:
    status: Status
    latency_ms: float | None = None
    detail: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status.value}
        if self.latency_ms is not None:
            data["latency_ms"] = self.latency_ms
        if self.detail:
            data["detail"] = self.detail
        data.update(self.info)
        return data


HealthCheck = Callable[[], Awaitable[ServiceHealth]]


@dataclass(slots=True)
class _Registered:
    check: HealthCheck
    critical: bool


class HealthRegistry:
    """Runs every check concurrently, each under a timeout, fresh on every call."""

    def __init__(self, timeout: float = 2.0) -> None:
        self.timeout = timeout
        self._checks: dict[str, _Registered] = {}

    def register(self, name: str, check: HealthCheck, *, critical: bool = False) -> None:
        self._checks[name] = _Registered(check, critical)

    def names(self) -> list[str]:
        return list(self._checks)

    async def run_one(self, name: str) -> ServiceHealth:
        registered = self._checks[name]
        started = clock.monotonic()
        try:
            result = await asyncio.wait_for(registered.check(), self.timeout)
        except TimeoutError:
            result = ServiceHealth(Status.UNHEALTHY, detail=f"timed out after {self.timeout}s")
        except Exception as exc:  # a failing check is a result, not a crash
            result = ServiceHealth(Status.UNHEALTHY, detail=f"{type(exc).__name__}: {exc}")
        if result.latency_ms is None:
            result.latency_ms = round((clock.monotonic() - started) * 1000, 2)
        return result

    async def run_all(self) -> tuple[Status, dict[str, ServiceHealth]]:
        names = list(self._checks)
        results = await asyncio.gather(*(self.run_one(n) for n in names))
        by_name = dict(zip(names, results, strict=True))
        return self.overall(by_name), by_name

    def overall(self, results: dict[str, ServiceHealth]) -> Status:
        status = Status.HEALTHY
        for name, result in results.items():
            if result.status is Status.HEALTHY:
                continue
            if self._checks[name].critical and result.status is Status.UNHEALTHY:
                return Status.UNHEALTHY
            status = Status.DEGRADED
        return status
