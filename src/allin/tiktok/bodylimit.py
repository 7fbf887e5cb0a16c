"""A larger request-body limit for the few routes that receive videos, the default for the rest.

Wraps the core `BodySizeLimitMiddleware` (one instance per limit), so the 413 behaviour is the
same everywhere; only the number differs. Generic; it could move to `allin.core.middleware`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from allin.core.config import Settings
from allin.core.middleware import BodySizeLimitMiddleware


@dataclass(frozen=True, slots=True)
class RouteBodyLimit:
    method: str
    path_pattern: str  # a regular expression the whole request path must match
    max_body_bytes: int


class RouteBodyLimitMiddleware:
    def __init__(
        self, app: ASGIApp, max_body_bytes: int, overrides: Sequence[RouteBodyLimit] = ()
    ) -> None:
        self.default = BodySizeLimitMiddleware(app, max_body_bytes)
        self.overrides = [
            (
                o.method.upper(),
                re.compile(o.path_pattern),
                BodySizeLimitMiddleware(app, o.max_body_bytes),
            )
            for o in overrides
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for method, pattern, limited in self.overrides:
                if scope["method"] == method and pattern.fullmatch(scope["path"]):
                    await limited(scope, receive, send)
                    return
        await self.default(scope, receive, send)


PUBLISH_PATH = r"/api/integrations/tiktok/[^/]+/publish"


def tiktok_body_limits(settings: Settings) -> list[RouteBodyLimit]:
    """Video uploads may be as large as TikTok accepts; nothing else changes."""
    return [RouteBodyLimit("POST", PUBLISH_PATH, settings.tiktok_max_upload_bytes)]
