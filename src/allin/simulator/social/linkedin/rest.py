"""LinkedIn's versioned REST API: /rest/posts (create, read by URN, list by author, delete) and
the Images and Videos APIs (initialize, upload, finalize, status)."""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from allin.simulator.social.common import after_commit, mint
from allin.simulator.social.linkedin.littletext import stored_commentary
from allin.simulator.social.linkedin.responses import (
    Caller,
    access_denied,
    error,
    guard,
    input_error,
    require,
    state_of,
)
from allin.simulator.social.linkedin.state import Asset, LinkedInState, Post

_REQUIRED = ("author", "commentary", "visibility", "distribution", "lifecycleState")
_VISIBILITY = {"PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"}
_LIFECYCLE = {"PUBLISHED", "DRAFT"}


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise error(400, "ILLEGAL_ARGUMENT", "Request body could not be converted to data map")
    return body


def _may_act_as(state: LinkedInState, caller: Caller, author: str, write: bool) -> bool:
    if author == caller.urn:
        return ("w_member_social" if write else "r_member_social") in caller.grant.scopes
    org = state.organizations.get(author)
    scope = "w_organization_social" if write else "r_organization_social"
    return org is not None and caller.member in org.admins and scope in caller.grant.scopes


async def create_post(request: Request) -> Response:
    caller, fault = await guard(request, "posts.create", counted=True)
    state = state_of(request)
    body = await _json(request)
    for name in _REQUIRED:
        if name not in body:
            raise input_error(
                422,
                f"/{name}",
                "FIELD_VALUE_REQUIRED",
                "field is required but not found and has no default value",
            )
    _check_types(body)
    author = body["author"]
    if not _may_act_as(state, caller, author, write=True):
        raise access_denied(f"partnerApiPostsExternal.CREATE.{caller.version}01")
    commentary = str(body["commentary"])
    if len(commentary) > state.config.max_commentary:
        # The production status for over-length commentary is not documented.
        raise input_error(
            422,
            "/commentary",
            "INVALID_FIELD_VALUE",
            f"length {len(commentary)} exceeds the maximum of {state.config.max_commentary}",
        )
    _check_content(state, body.get("content"), author)
    duplicate = _duplicate_of(state, author, commentary)
    if duplicate is not None:
        raise input_error(
            422, "/commentary", "DUPLICATE_POST", f"Content is a duplicate of {duplicate.urn}"
        )
    post = state.new_post(author, commentary, stored_commentary(commentary), body)
    await after_commit(fault)
    return Response(b"", 201, headers={"x-restli-id": post.urn})


_ENUMS = {"visibility": _VISIBILITY, "lifecycleState": _LIFECYCLE}
_TYPES: dict[str, type] = {"author": str, "commentary": str, "distribution": dict}


def _check_types(body: dict[str, Any]) -> None:
    for name, kind in _TYPES.items():
        if not isinstance(body[name], kind):
            raise input_error(422, f"/{name}", "INVALID_FIELD_VALUE", f"{name} has the wrong type")
    for name, allowed in _ENUMS.items():
        if not isinstance(body[name], str) or body[name] not in allowed:
            raise input_error(
                422, f"/{name}", "INVALID_ENUM_VALUE", f"{body[name]} is not a valid value"
            )


def _duplicate_of(state: LinkedInState, author: str, commentary: str) -> Post | None:
    now = state.now()
    for post in state.posts.values():
        if post.author != author or post.sent_commentary != commentary:
            continue
        if post.deleted_at is not None and now >= post.deleted_at + state.config.ghost_window:
            continue
        if now < post.created_at + state.config.duplicate_window:
            return post
    return None


def _check_content(state: LinkedInState, content: object, author: str) -> None:
    if content is None:
        return
    if not isinstance(content, dict):
        raise input_error(422, "/content", "INVALID_FIELD_VALUE", "content must be an object")
    urns: list[str] = []
    if isinstance(content.get("media"), dict):
        urns.append(str(content["media"].get("id", "")))
    if isinstance(content.get("multiImage"), dict):
        images = content["multiImage"].get("images")
        if not isinstance(images, list) or not 2 <= len(images) <= 20:
            raise input_error(
                422,
                "/content/multiImage/images",
                "INVALID_FIELD_VALUE",
                "multiImage needs 2 to 20 images",
            )
        urns += [str(i.get("id", "")) if isinstance(i, dict) else "" for i in images]
    for urn in urns:
        asset = state.assets.get(urn)
        if asset is None or asset.owner != author:
            raise error(
                400,
                "ILLEGAL_ARGUMENT",
                f"Media asset {urn} is not found or is not owned by the author",
            )
        status = state.asset_status(asset)
        if status != "AVAILABLE":
            code = (
                "MEDIA_ASSET_PROCESSING_FAILED"
                if status == "PROCESSING_FAILED"
                else "MEDIA_ASSET_WAITING_UPLOAD"
            )
            raise error(400, code, f"Media asset {urn} is in status {status}")


def render_post(post: Post) -> dict[str, Any]:
    body = {k: v for k, v in post.body.items() if k != "content"}
    created = int(post.created_at * 1000)
    body |= {
        "id": post.urn,
        "author": post.author,
        "commentary": post.commentary,
        "createdAt": created,
        "publishedAt": created,
        "lastModifiedAt": created,
        "isReshareDisabledByAuthor": bool(post.body.get("isReshareDisabledByAuthor", False)),
        "lifecycleStateInfo": {"isEditedByAuthor": False},
    }
    if "content" in post.body:
        body["content"] = post.body["content"]
    return body


async def get_post(request: Request) -> Response:
    caller, _ = await guard(request, "posts.get")
    state = state_of(request)
    post = state.posts.get(request.path_params["urn"])
    if post is not None and not _may_act_as(state, caller, post.author, write=False):
        raise access_denied(f"partnerApiPostsExternal.GET.{caller.version}01")
    if post is None or post.deleted_at is not None:
        require(caller, "r_member_social", "partnerApiPostsExternal.GET")
        raise error(404, "NOT_FOUND", "Not Found", 0)
    return JSONResponse(render_post(post))


async def find_posts(request: Request) -> Response:
    caller, _ = await guard(request, "posts.find")
    state = state_of(request)
    q = request.query_params
    author = q.get("author", "")
    if q.get("q") != "author" or not author:
        raise error(400, "ILLEGAL_ARGUMENT", "q=author and author are required")
    if not _may_act_as(state, caller, author, write=False):
        raise access_denied(f"partnerApiPostsExternal.FINDER-author.{caller.version}01")
    start_raw, count_raw = q.get("start", "0"), q.get("count", "10")
    if not start_raw.isdigit() or not count_raw.isdigit():
        raise error(400, "ILLEGAL_ARGUMENT", "start and count must be non-negative integers")
    start, count = int(start_raw), min(100, int(count_raw))
    posts = sorted(
        (p for p in state.posts.values() if p.author == author and p.deleted_at is None),
        key=lambda p: p.created_at,
        reverse=True,
    )
    page = posts[start : start + count]
    links = []
    if start + count < len(posts):
        href = f"/rest/posts?author={quote(author)}&count={count}&q=author&start={start + count}"
        links.append({"type": "application/json", "rel": "next", "href": href})
    return JSONResponse(
        {
            "paging": {"start": start, "count": count, "links": links, "total": len(posts)},
            "elements": [render_post(p) for p in page],
        }
    )


async def delete_post(request: Request) -> Response:
    caller, _ = await guard(request, "posts.delete")
    state = state_of(request)
    post = state.posts.get(request.path_params["urn"])
    if post is not None:
        if not _may_act_as(state, caller, post.author, write=True):
            raise access_denied(f"partnerApiPostsExternal.DELETE.{caller.version}01")
        post.deleted_at = post.deleted_at or state.now()
    return Response(b"", 204)  # idempotent


# --- Images and Videos APIs ---


def _owner(state: LinkedInState, caller: Caller, request: dict[str, Any]) -> str:
    owner = str(request.get("owner", ""))
    if not _may_act_as(state, caller, owner, write=True):
        raise access_denied(f"assets.ACTION-initializeUpload.{caller.version}01")
    return owner


def _upload_url(request: Request, asset: Asset, part: int = 0) -> str:
    base = str(request.base_url).rstrip("/")
    token = mint(size=12)
    return f"{base}/dms-uploads/sp/{quote(asset.urn)}/{part}?sau={token}"


async def images(request: Request) -> Response:
    caller, _ = await guard(request, "images.initialize")
    state = state_of(request)
    if request.query_params.get("action") != "initializeUpload":
        raise error(400, "ILLEGAL_ARGUMENT", "action must be initializeUpload")
    init = (await _json(request)).get("initializeUploadRequest")
    if not isinstance(init, dict):
        raise input_error(
            422,
            "/initializeUploadRequest",
            "FIELD_VALUE_REQUIRED",
            "field is required but not found and has no default value",
        )
    asset = state.new_asset("image", _owner(state, caller, init))
    expires = int((state.now() + 3600) * 1000)
    return JSONResponse(
        {
            "value": {
                "uploadUrlExpiresAt": expires,
                "uploadUrl": _upload_url(request, asset),
                "image": asset.urn,
            }
        }
    )


async def videos(request: Request) -> Response:
    caller, _ = await guard(request, "videos.action")
    state = state_of(request)
    action = request.query_params.get("action")
    body = await _json(request)
    if action == "initializeUpload":
        init = body.get("initializeUploadRequest")
        size = init.get("fileSizeBytes") if isinstance(init, dict) else None
        if not isinstance(init, dict) or not isinstance(size, int) or size <= 0:
            raise input_error(
                422,
                "/initializeUploadRequest/fileSizeBytes",
                "FIELD_VALUE_REQUIRED",
                "field is required but not found",
            )
        asset = state.new_asset("video", _owner(state, caller, init), size)
        part_size = state.config.video_part_size
        instructions = [
            {
                "uploadUrl": _upload_url(request, asset, n),
                "firstByte": n * part_size,
                "lastByte": min(size, (n + 1) * part_size) - 1,
            }
            for n in range(math.ceil(size / part_size))
        ]
        return JSONResponse(
            {
                "value": {
                    "uploadUrlsExpireAt": int((state.now() + 3600) * 1000),
                    "video": asset.urn,
                    "uploadInstructions": instructions,
                    "uploadToken": "",
                }
            }
        )
    if action == "finalizeUpload":
        return _finalize_video(state, caller, body.get("finalizeUploadRequest"))
    raise error(400, "ILLEGAL_ARGUMENT", "action must be initializeUpload or finalizeUpload")


def _finalize_video(state: LinkedInState, caller: Caller, final: object) -> Response:
    urn = final.get("video") if isinstance(final, dict) else None
    asset = state.assets.get(str(urn))
    if not isinstance(final, dict) or asset is None or asset.kind != "video":
        raise error(400, "ILLEGAL_ARGUMENT", f"Video {urn} not found")
    if not _may_act_as(state, caller, asset.owner, write=True):
        raise access_denied(f"videos.ACTION-finalizeUpload.{caller.version}01")
    expected = [asset.etags[n] for n in sorted(asset.etags)]
    complete = sum(asset.parts.values()) == asset.size
    if final.get("uploadedPartIds") != expected or not complete:
        raise error(400, "ILLEGAL_ARGUMENT", "uploadedPartIds do not match the uploaded parts")
    _mark_uploaded(state, asset)
    return Response(b"", 200)


def _mark_uploaded(state: LinkedInState, asset: Asset) -> None:
    asset.uploaded_at = state.now()
    if state.fail_next_media > 0:
        state.fail_next_media -= 1
        asset.fails = True


async def upload_part(request: Request) -> Response:
    """PUT of bytes to an uploadUrl; video parts answer with the ETag that finalize lists."""
    state = state_of(request)
    asset = state.assets.get(request.path_params["urn"])
    if asset is None:
        raise error(404, "NOT_FOUND", "Not Found", 0)
    part = int(request.path_params["part"])
    data = await request.body()
    asset.parts[part] = len(data)
    if asset.kind == "image":
        _mark_uploaded(state, asset)
        return Response(b"", 201)
    etag = "/" + mint(size=18)
    asset.etags[part] = etag
    return Response(b"", 200, headers={"ETag": etag})


async def get_asset(request: Request) -> Response:
    await guard(request, "assets.get")
    state = state_of(request)
    asset = state.assets.get(request.path_params["urn"])
    if asset is None or not request.url.path.startswith(f"/rest/{asset.kind}s/"):
        raise error(404, "NOT_FOUND", "Not Found", 0)
    status = state.asset_status(asset)
    body: dict[str, Any] = {"owner": asset.owner, "status": status, "id": asset.urn}
    if status == "AVAILABLE":
        body["downloadUrl"] = f"https://media.licdn.com/dms/{asset.kind}/{asset.urn}"
        body["downloadUrlExpiresAt"] = int((state.now() + 3600) * 1000)
    return JSONResponse(body)
