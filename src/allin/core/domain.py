"""How a domain plugs into the app: one `Domain` per domain, listed in start-up order by
`create_app`, and one typed `AppState` that holds what the app shares.

A domain declares its routers, exception handlers, middleware and health checks, and one
async-context-manager lifespan. The app factory enters the lifespans in list order on one
`AsyncExitStack` and leaves them in reverse, so start-up and shutdown order is that list and
nothing else. Services a domain starts go into the state's registry, keyed by their class.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from fastapi import APIRouter, Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from allin.core.config import Settings
from allin.core.health import HealthCheck, HealthRegistry, ServiceHealth, Status

T = TypeVar("T")

Lifespan = Callable[["AppState"], AbstractAsyncContextManager[None]]
ExceptionHandler = Callable[[Request, Any], Awaitable[Any]]
HealthFields = Callable[[dict[str, ServiceHealth]], Awaitable[dict[str, Any]]]
"""Extra top-level fields of `GET /api/health`, computed from the checks' results."""


class NotStartedError(RuntimeError):
    """A service was asked for before the domain that provides it started."""


@dataclass(frozen=True, slots=True)
class HealthCheckSpec:
    """A named check, built from the app state when the app is assembled."""

    name: str
    build: Callable[[AppState], HealthCheck]
    critical: bool = False


def service_check(
    name: str,
    kind: type[T],
    check: Callable[[T], Awaitable[ServiceHealth]],
    *,
    critical: bool = False,
) -> HealthCheckSpec:
    """A check that asks a registered service; degraded until its domain has started."""

    def build(state: AppState) -> HealthCheck:
        async def run() -> ServiceHealth:
            service = state.find(kind)
            if service is None:
                return ServiceHealth(Status.DEGRADED, detail="not started")
            return await check(service)

        return run

    return HealthCheckSpec(name, build, critical)


@dataclass(frozen=True, slots=True)
class Mount:
    """A sub-application served under a path (static files)."""

    path: str
    app: ASGIApp
    name: str


@dataclass(frozen=True, slots=True)
class Domain:
    name: str
    routers: Sequence[APIRouter] = ()
    exception_handlers: Mapping[type[Exception], ExceptionHandler] = field(default_factory=dict)
    middleware: Sequence[Middleware] = ()
    """Innermost first: the first entry sees a request last."""
    health_checks: Sequence[HealthCheckSpec] = ()
    health_fields: Sequence[HealthFields] = ()
    mounts: Sequence[Mount] = ()
    lifespan: Lifespan | None = None


@dataclass(eq=False)
class AppState:
    """Everything the app shares, at `app.state.allin`. The database fields are set by the
    database domain's lifespan, which starts before every other domain."""

    settings: Settings
    health: HealthRegistry
    started_at: float
    health_fields: list[HealthFields] = field(default_factory=list)
    _engine: AsyncEngine | None = None
    _session_factory: async_sessionmaker[AsyncSession] | None = None
    _services: dict[type[Any], Any] = field(default_factory=dict)

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise NotStartedError("the database has not started")
        return self._engine

    @property
    def session_factory(self) -> async_sessionmaker[AsyncSession]:
        if self._session_factory is None:
            raise NotStartedError("the database has not started")
        return self._session_factory

    def open_database(
        self, engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
    ) -> None:
        self._engine, self._session_factory = engine, session_factory

    def provide(self, service: T, kind: type[T] | None = None) -> T:
        """Registers `service` under its class (or `kind`); replaces an earlier one."""
        self._services[kind or type(service)] = service
        return service

    def withdraw(self, kind: type[Any]) -> None:
        self._services.pop(kind, None)

    def find(self, kind: type[T]) -> T | None:
        return cast("T | None", self._services.get(kind))

    def get(self, kind: type[T]) -> T:
        service = self.find(kind)
        if service is None:
            raise NotStartedError(f"{kind.__name__} has not started")
        return service


def app_state(app: Any) -> AppState:
    """The state of a FastAPI/Starlette app (`request.app` works too)."""
    state: AppState = app.state.allin
    return state


def provided(kind: type[T]) -> Any:
    """A FastAPI dependency on a registered service: `Annotated[Kind, provided(Kind)]`."""

    def dependency(request: Request) -> T:
        return app_state(request.app).get(kind)

    return Depends(dependency)


def assemble(app: FastAPI, state: AppState, domains: Sequence[Domain]) -> None:
    """Adds every domain's parts to the app, in list order. Middleware of later domains
    wraps that of earlier ones."""
    for domain in domains:
        for router in domain.routers:
            app.include_router(router)
        for mount in domain.mounts:
            app.mount(mount.path, mount.app, name=mount.name)
        for exc_class, handler in domain.exception_handlers.items():
            app.add_exception_handler(exc_class, handler)
        for spec in domain.health_checks:
            state.health.register(spec.name, spec.build(state), critical=spec.critical)
        state.health_fields.extend(domain.health_fields)
        for middleware in domain.middleware:
            app.add_middleware(middleware.cls, *middleware.args, **middleware.kwargs)
