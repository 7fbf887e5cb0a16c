"""The X simulator as an ASGI app: one server plays x.com (consent) and api.x.com.
`app.state.sim` is the `XState`, for tests to steer."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from allin.simulator.social import control
from allin.simulator.social.common import SimFailure, sim_failure_handler
from allin.simulator.social.x import media, oauth, tweets
from allin.simulator.social.x.config import XConfig
from allin.simulator.social.x.state import XState

ROUTES: list[tuple[str, object, list[str]]] = [
    ("/i/oauth2/authorize", oauth.authorize, ["GET"]),
    ("/2/oauth2/authorize", oauth.authorize, ["GET"]),
    ("/2/oauth2/token", oauth.token, ["POST"]),
    ("/2/oauth2/revoke", oauth.revoke, ["POST"]),
    ("/2/users/me", tweets.users_me, ["GET"]),
    ("/2/users/{id}/tweets", tweets.user_tweets, ["GET"]),
    ("/2/tweets", tweets.create_tweet, ["POST"]),
    ("/2/tweets/{id}", tweets.get_tweet, ["GET"]),
    ("/2/tweets/{id}", tweets.delete_tweet, ["DELETE"]),
    ("/2/media/upload", media.upload, ["POST"]),
    ("/2/media/upload", media.status, ["GET"]),
    ("/2/media/upload/initialize", media.initialize, ["POST"]),
    ("/2/media/upload/{id}/append", media.append, ["POST"]),
    ("/2/media/upload/{id}/finalize", media.finalize, ["POST"]),
]


async def _not_found(_: Request, __: Exception) -> Response:
    return JSONResponse(
        {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}, 404
    )


def create_x_simulator(config: XConfig | None = None) -> FastAPI:
    app = FastAPI(title="X API v2 simulator", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.sim = XState(config or XConfig())
    app.include_router(control.router)
    for path, endpoint, methods in ROUTES:
        app.router.add_route(path, endpoint, methods=methods)  # type: ignore[arg-type]
    app.add_exception_handler(SimFailure, sim_failure_handler)
    app.add_exception_handler(404, _not_found)
    return app
