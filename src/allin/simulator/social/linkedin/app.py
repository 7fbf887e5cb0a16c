"""The LinkedIn simulator as an ASGI app: one server plays www.linkedin.com (OAuth, uploads)
and api.linkedin.com. `app.state.sim` is the `LinkedInState`, for tests to steer."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from allin.simulator.social import control
from allin.simulator.social.common import SimFailure, sim_failure_handler
from allin.simulator.social.linkedin import oauth, rest
from allin.simulator.social.linkedin.config import LinkedInConfig
from allin.simulator.social.linkedin.state import LinkedInState

ROUTES: list[tuple[str, object, list[str]]] = [
    ("/oauth/v2/authorization", oauth.authorize, ["GET"]),
    ("/oauth/v2/accessToken", oauth.access_token, ["POST"]),
    ("/oauth/v2/introspectToken", oauth.introspect, ["POST"]),
    ("/oauth/v2/revoke", oauth.revoke, ["POST"]),
    ("/v2/userinfo", oauth.userinfo, ["GET"]),
    ("/v2/me", oauth.me, ["GET"]),
    ("/rest/posts", rest.create_post, ["POST"]),
    ("/rest/posts", rest.find_posts, ["GET"]),
    ("/rest/posts/{urn}", rest.get_post, ["GET"]),
    ("/rest/posts/{urn}", rest.delete_post, ["DELETE"]),
    ("/rest/images", rest.images, ["POST"]),
    ("/rest/images/{urn}", rest.get_asset, ["GET"]),
    ("/rest/videos", rest.videos, ["POST"]),
    ("/rest/videos/{urn}", rest.get_asset, ["GET"]),
    ("/dms-uploads/sp/{urn}/{part:int}", rest.upload_part, ["PUT"]),
]


async def _not_found(_: Request, __: Exception) -> Response:
    return JSONResponse({"status": 404, "code": "NOT_FOUND", "message": "Not Found"}, 404)


def create_linkedin_simulator(config: LinkedInConfig | None = None) -> FastAPI:
    app = FastAPI(title="LinkedIn API simulator", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.sim = LinkedInState(config or LinkedInConfig())
    app.include_router(control.router)
    for path, endpoint, methods in ROUTES:
        app.router.add_route(path, endpoint, methods=methods)  # type: ignore[arg-type]
    app.add_exception_handler(SimFailure, sim_failure_handler)
    app.add_exception_handler(404, _not_found)
    return app
