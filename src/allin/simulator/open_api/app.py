"""The simulator as an ASGI app: one server plays www.tiktok.com, open.tiktokapis.com and the
upload host (paths do not collide). `app.state.sim` is the `World`, for tests to steer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from allin.core.http import create_http_client
from allin.simulator.open_api import api_routes, oauth_routes, upload_routes
from allin.simulator.open_api.config import SimulatorConfig
from allin.simulator.open_api.responses import (
    ApiFailure,
    RawFailure,
    api_failure_handler,
    raw_failure_handler,
)
from allin.simulator.open_api.state import World
from allin.simulator.open_api.webhook_delivery import pump

ROUTES: list[tuple[str, object, list[str]]] = [
    ("/v2/auth/authorize/", oauth_routes.authorize, ["GET"]),
    ("/v2/auth/authorize/consent/", oauth_routes.consent, ["POST"]),
    ("/v2/oauth/token/", oauth_routes.token, ["POST"]),
    ("/v2/oauth/revoke/", oauth_routes.revoke, ["POST"]),
    ("/v2/user/info/", api_routes.user_info, ["GET"]),
    ("/v2/video/list/", api_routes.video_list, ["POST"]),
    ("/v2/video/query/", api_routes.video_query, ["POST"]),
    ("/v2/post/publish/creator_info/query/", api_routes.creator_info, ["POST"]),
    ("/v2/post/publish/video/init/", api_routes.video_init, ["POST"]),
    ("/v2/post/publish/inbox/video/init/", api_routes.inbox_init, ["POST"]),
    ("/v2/post/publish/content/init/", api_routes.content_init, ["POST"]),
    ("/v2/post/publish/status/fetch/", api_routes.status_fetch, ["POST"]),
    ("/v2/post/publish/cancel/", api_routes.cancel, ["POST"]),
    ("/video/", upload_routes.put_chunk, ["PUT"]),
]


async def _not_found(_: Request, __: Exception) -> Response:
    return JSONResponse(
        {"data": {}, "error": {"code": "invalid_params", "message": "unknown path", "log_id": ""}},
        404,
    )


async def _ticker(world: World) -> None:
    """Moves publishes along by the clock and sends their webhooks."""
    async with create_http_client(timeout=10.0) as http:
        while True:
            world.advance()
            await pump(world, http)
            await asyncio.sleep(world.config.tick_interval)


def create_open_api_simulator(config: SimulatorConfig | None = None) -> FastAPI:
    world = World(config or SimulatorConfig())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        ticker = asyncio.create_task(_ticker(world))
        try:
            yield
        finally:
            for task in (ticker, *world.tasks):
                task.cancel()
            for task in (ticker, *world.tasks):
                with suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(
        title="TikTok Open API simulator",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.sim = world
    for path, endpoint, methods in ROUTES:
        app.router.add_route(path, endpoint, methods=methods)  # type: ignore[arg-type]
    app.add_exception_handler(ApiFailure, api_failure_handler)
    app.add_exception_handler(RawFailure, raw_failure_handler)
    app.add_exception_handler(404, _not_found)
    return app
