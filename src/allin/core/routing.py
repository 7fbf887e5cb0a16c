"""Which HTTP methods the app's routes answer on a path: for the 405 `Allow` header, and for
middleware that must act only on requests a route will take."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, compile_path


class RouteMethods:
    """Built from the routes on first use (routers are all mounted by then). FastAPI spreads
    one path over several routes, so the methods of every route on a path are joined."""

    def __init__(
        self,
        routes: Callable[[], Sequence[BaseRoute]],
        where: Callable[[str], bool] = lambda _path: True,
    ) -> None:
        self._routes = routes
        self._where = where
        self._static: dict[str, frozenset[str]] | None = None
        self._dynamic: list[tuple[re.Pattern[str], frozenset[str]]] = []

    def accepts(self, method: str, path: str) -> bool:
        static = self._static if self._static is not None else self._build()
        if method in static.get(path, ()):
            return True
        return any(method in methods and rx.match(path) for rx, methods in self._dynamic)

    def methods(self, path: str) -> frozenset[str]:
        static = self._static if self._static is not None else self._build()
        found = set(static.get(path, ()))
        for rx, methods in self._dynamic:
            if rx.match(path):
                found |= methods
        return frozenset(found)

    def _build(self) -> dict[str, frozenset[str]]:
        static: dict[str, set[str]] = {}
        for route in iter_route_contexts(list(self._routes())):
            if not route.methods or not route.path or not self._where(route.path):
                continue
            if "{" in route.path:
                self._dynamic.append((compile_path(route.path)[0], frozenset(route.methods)))
            else:
                static.setdefault(route.path, set()).update(route.methods)
        self._static = {path: frozenset(methods) for path, methods in static.items()}
        return self._static
