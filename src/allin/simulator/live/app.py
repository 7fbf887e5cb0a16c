"""The simulator as one ASGI app: TikTok's web side at `/`, webcast at `/webcast`, the push
server at `/webcast/im/ws_proxy/...`, an EulerStream-compatible sign side at `/sign` (AllIN's own
fetch endpoint, relaying this simulator's im/fetch), and a control API at `/_simulator`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from allin.sign.fetch import PassThroughSigner, WebcastFetcher
from allin.sign.responses import EXCEPTION_HANDLERS as SIGN_ERROR_HANDLERS
from allin.sign.router import fetcher_for
from allin.sign.router import router as sign_router
from allin.simulator.live.control import router as control_router
from allin.simulator.live.push import PUSH_PATH, push_endpoint
from allin.simulator.live.simulator import Simulator
from allin.simulator.live.webside import web_router, webcast_router

SIGN_PREFIX = "/sign"
WEBCAST_PREFIX = "/webcast"


def create_simulator_app(simulator: Simulator | None = None) -> FastAPI:
    sim = simulator or Simulator()
    app = FastAPI(
        title="AllIN TikTok LIVE simulator",
        summary="TikTok's web, webcast and push sides, seeded and reproducible, with faults.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.simulator = sim
    app.dependency_overrides[fetcher_for] = _own_fetcher
    app.include_router(web_router)
    app.include_router(webcast_router, prefix=WEBCAST_PREFIX)
    app.add_api_websocket_route(PUSH_PATH, push_endpoint)
    app.include_router(sign_router, prefix=SIGN_PREFIX)
    for exc_class, handler in SIGN_ERROR_HANDLERS.items():
        app.add_exception_handler(exc_class, handler)
    app.include_router(control_router)
    app.middleware("http")(_sign_rate_limit)
    return app


def _own_fetcher(request: Request) -> WebcastFetcher:
    """The sign side relays this very server's TikTok side, over real HTTP."""
    sim: Simulator = request.app.state.simulator
    base = str(request.base_url).rstrip("/")
    return WebcastFetcher(
        webcast_url=base + WEBCAST_PREFIX,
        web_url=base,
        signer=PassThroughSigner(),
        timeout=10.0,
        verify=sim.config.ca_file or True,
    )


async def _sign_rate_limit(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """The sign side's 429, with every rate header either EulerStream client reads."""
    sim: Simulator = request.app.state.simulator
    if request.url.path.startswith(SIGN_PREFIX + "/"):
        retry_after = sim.faults.take_sign_rate_limit()
        if retry_after is not None:
            reset_at = sim.now_ms() // 1000 + retry_after
            return JSONResponse(
                {
                    "code": 429,
                    "message": "Rate limit exceeded. Please try again later.",
                    "limit_label": "minute",
                },
                status_code=429,
                headers={
                    "Retry-After": str(retry_after),
                    "RateLimit-Remaining": "0",
                    "RateLimit-Reset": str(retry_after),
                    "X-RateLimit-Reset": str(reset_at),
                },
            )
    return await call_next(request)
