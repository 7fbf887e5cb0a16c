"""The Meta Graph API simulator as an ASGI app: one server plays www.facebook.com (the OAuth
dialog), graph.facebook.com and graph-video.facebook.com, under a version prefix such as
/v25.0/ (unversioned calls get the default version). Graph paths are object ids, so one route
reads the path and dispatches. `app.state.sim` is the `MetaState`, for tests to steer."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from allin.simulator.social import control
from allin.simulator.social.common import Fault, SimFailure, form_or_json, sim_failure_handler
from allin.simulator.social.meta import instagram, oauth, pages
from allin.simulator.social.meta.config import MetaConfig
from allin.simulator.social.meta.responses import (
    Ctx,
    dead_token,
    fault_failure,
    graph_error,
    not_found,
    throttled,
    usage_headers,
)
from allin.simulator.social.meta.state import MetaState

_VERSION = re.compile(r"^v(\d+)\.(\d+)$")


def _version(state: MetaState, parts: list[str]) -> tuple[str, list[str]]:
    match = _VERSION.match(parts[0]) if parts else None
    if match is None:
        return state.config.default_version, parts
    oldest = _VERSION.match(state.config.oldest_version)
    assert oldest is not None
    if (int(match.group(1)), int(match.group(2))) < (int(oldest.group(1)), int(oldest.group(2))):
        raise graph_error(
            400,
            2635,
            f"(#2635) You are calling a deprecated version of the "
            f"Graph API. Please update to the latest version: "
            f"{state.config.default_version}.",
        )
    return parts[0], parts[1:]


async def _context(request: Request, version: str) -> Ctx:
    params = await form_or_json(request)
    files: dict[str, bytes] = {}
    for key, value in list(params.items()):
        if isinstance(value, UploadFile):
            files[key] = await value.read()
            del params[key]
    ctx = Ctx(version, params, files=files, base_url=str(request.base_url).rstrip("/"))
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() in ("bearer", "oauth") and "access_token" not in params:
        params["access_token"] = value.strip()
    return ctx


def _authenticate(state: MetaState, ctx: Ctx) -> None:
    value = ctx.text("access_token")
    if not value:
        raise graph_error(400, 104, "An access token is required to request this resource.")
    if value == f"{state.config.app_id}|{state.config.app_secret}":
        ctx.token = state.app_token()
        return
    token = state.tokens.get(value)
    if token is None:
        raise graph_error(400, 190, "Invalid OAuth access token - Cannot parse access token")
    if token.dead_subcode is not None or token.expired(state.now()):
        raise dead_token(state, token)
    ctx.token = token


def _business_object(state: MetaState, ctx: Ctx, object_id: str) -> tuple[str | None, str]:
    """Which business use case a call counts against: Instagram calls always count against
    the account; Page-token calls against the Page; the rest against the app."""
    ig_id = object_id if object_id in state.instagram else None
    if ig_id is None and object_id in state.containers:
        ig_id = state.containers[object_id].ig_id
    if ig_id is None and object_id in state.ig_media:
        ig_id = state.ig_media[object_id].ig_id
    if ig_id is not None:
        return ig_id, "instagram"
    token = ctx.token
    if token is not None and token.kind == "PAGE":
        return token.page_id, "pages"
    return None, "app"


async def graph(request: Request) -> Response:
    state: MetaState = request.app.state.sim
    version, parts = _version(state, [p for p in request.url.path.split("/") if p])
    ctx = await _context(request, version)
    method = request.method
    if parts == ["dialog", "oauth"]:
        return oauth.dialog(state, request, ctx)
    if parts == ["oauth", "access_token"]:
        fault = await state.faults.before("oauth.access_token")
        fault_failure(state, ctx, fault, None)
        return JSONResponse(oauth.access_token(state, ctx))
    if parts == ["debug_token"]:
        return JSONResponse(oauth.debug_token(state, ctx))
    if not parts:
        raise not_found("")
    _authenticate(state, ctx)
    if parts[0] == "ig-api-upload" and len(parts) == 3 and method == "POST":
        return JSONResponse(await instagram.resumable_upload(state, ctx, parts[2], request))
    buc_id, buc_type = _business_object(state, ctx, parts[0])
    endpoint = _endpoint_name(state, parts)
    fault = await state.faults.before(endpoint)
    over = usage_headers(state, ctx, buc_id, buc_type)
    try:
        fault_failure(state, ctx, fault, buc_type if buc_id else None)
        if over:
            raise throttled(state, ctx, buc_type if buc_id else None)
        body = await _route(state, ctx, parts, method, fault)
    except SimFailure as failure:
        failure.headers = {**ctx.headers, **failure.headers}
        raise
    return JSONResponse(body, headers=ctx.headers)


def _endpoint_name(state: MetaState, parts: list[str]) -> str:
    """Names for fault injection: page.feed, page.photos, page.videos, ig.media,
    ig.media_publish, me.accounts, object (GET /{id}), ..."""
    head = parts[0]
    if head == "me":
        return "me." + (parts[1] if len(parts) > 1 else "object")
    kind = "page" if head in state.pages else "ig" if head in state.instagram else "object"
    return f"{kind}.{parts[1]}" if len(parts) > 1 else kind


async def _route(
    state: MetaState, ctx: Ctx, parts: list[str], method: str, fault: Fault | None
) -> dict[str, Any]:
    head, edge = parts[0], parts[1] if len(parts) > 1 else None
    if head == "me":
        return _me(state, ctx, edge, method)
    if head in state.pages and edge is not None:
        return await _page_edge(state, ctx, head, edge, method, fault)
    if head in state.instagram and edge is not None:
        return await _ig_edge(state, ctx, head, edge, method, fault)
    if edge is None and method == "GET":
        found = pages.render_object(state, ctx, head) or instagram.render_ig_object(
            state, ctx, head
        )
        if found is not None:
            return found
    if edge is None and method == "DELETE":
        deleted = pages.delete_post(state, ctx, head)
        if deleted is not None:
            return deleted
    raise not_found(head)


def _me(state: MetaState, ctx: Ctx, edge: str | None, method: str) -> dict[str, Any]:
    if edge is None and method == "GET":
        return oauth.me(state, ctx)
    if edge == "accounts" and method == "GET":
        return oauth.accounts(state, ctx)
    if edge == "permissions" and method == "DELETE":
        return oauth.delete_permissions(state, ctx)
    raise not_found("me")


async def _page_edge(
    state: MetaState, ctx: Ctx, page_id: str, edge: str, method: str, fault: Fault | None
) -> dict[str, Any]:
    if method == "POST" and edge == "feed":
        return await pages.feed(state, ctx, page_id, fault)
    if method == "POST" and edge == "photos":
        return await pages.photos(state, ctx, page_id, fault)
    if method == "POST" and edge == "videos":
        return await pages.videos(state, ctx, page_id, fault)
    if method == "GET" and edge in ("feed", "posts", "published_posts", "scheduled_posts"):
        return pages.list_posts(state, ctx, page_id, edge)
    raise not_found(page_id)


async def _ig_edge(
    state: MetaState, ctx: Ctx, ig_id: str, edge: str, method: str, fault: Fault | None
) -> dict[str, Any]:
    if edge == "media" and method == "POST":
        return await instagram.create_container(state, ctx, ig_id)
    if edge == "media" and method == "GET":
        return instagram.list_media(state, ctx, ig_id, stories=False)
    if edge == "stories" and method == "GET":
        return instagram.list_media(state, ctx, ig_id, stories=True)
    if edge == "media_publish" and method == "POST":
        return await instagram.publish(state, ctx, ig_id, fault)
    if edge == "content_publishing_limit" and method == "GET":
        return instagram.publishing_limit(state, ctx, ig_id)
    raise not_found(ig_id)


def create_meta_simulator(config: MetaConfig | None = None) -> FastAPI:
    app = FastAPI(title="Meta Graph API simulator", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.sim = MetaState(config or MetaConfig())
    app.include_router(control.router)
    app.router.add_route("/{path:path}", graph, methods=["GET", "POST", "DELETE"])
    app.add_exception_handler(SimFailure, sim_failure_handler)
    return app
