"""Media upload v2: one-shot POST /2/media/upload, the chunked initialize / append / finalize
endpoints (2025-04-30) and GET /2/media/upload?command=STATUS. Video and GIF processing moves
pending -> in_progress -> succeeded (or failed) by the clock."""

from __future__ import annotations

import base64
import binascii
import math
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from allin.simulator.social.common import snowflake
from allin.simulator.social.sniff import image_info
from allin.simulator.social.x.responses import Caller, answer, guard, invalid_request, state_of
from allin.simulator.social.x.state import Media, XState

SCOPES = ("media.write",)
CATEGORIES = {
    "tweet_image",
    "tweet_video",
    "tweet_gif",
    "dm_image",
    "dm_video",
    "dm_gif",
    "subtitles",
    "amplify_video",
}
MEDIA_TYPES = {
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/bmp",
    "image/pjpeg",
    "image/tiff",
    "image/gif",
    "video/mp4",
    "video/webm",
    "video/mp2t",
    "video/quicktime",
    "text/srt",
    "text/vtt",
    "model/gltf-binary",
    "model/vnd.usdz+zip",
}
MB = 1024 * 1024


def _max_bytes(category: str) -> int:
    if "gif" in category:
        return 15 * MB
    if "video" in category:
        return 512 * MB
    return 5 * MB


def _category_for(media_type: str) -> str:
    if media_type == "image/gif":
        return "tweet_gif"
    if media_type.startswith("video/"):
        return "tweet_video"
    return "tweet_image"


def render(state: XState, media: Media, with_processing: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": media.id,
        "media_key": media.key_prefix + media.id,
        "size": sum(media.segments.values()) or media.total_bytes,
        "expires_after_secs": max(
            0,
            math.ceil(
                (media.finalized_at or media.created_at)
                + state.config.media_expires_after
                - state.now()
            ),
        ),
    }
    if media.media_type.startswith("image/") and "gif" not in media.category:
        data["image"] = {"image_type": media.media_type, "w": media.width, "h": media.height}
    if media.media_type.startswith("video/"):
        data["video"] = {"video_type": media.media_type}
    if with_processing and media.asynchronous:
        status, progress = state.media_state(media)
        info: dict[str, Any] = {"state": status, "progress_percent": progress}
        if status in ("pending", "in_progress"):
            info["check_after_secs"] = state.config.check_after_secs
        if status == "failed":
            info["error"] = {
                "code": 1,
                "name": "InvalidMedia",
                "message": "Invalid or Unsupported media, Reason: UnsupportedCodec.",
            }
        data["processing_info"] = info
    return data


def _new_media(state: XState, caller: Caller, media_type: str, category: str, total: int) -> Media:
    if media_type not in MEDIA_TYPES:
        raise invalid_request(
            state,
            f"media_type [{media_type}] is not supported",
            {"media_type": [media_type]},
            caller.headers,
        )
    if category not in CATEGORIES:
        raise invalid_request(
            state,
            f"media_category [{category}] is not one of [{', '.join(sorted(CATEGORIES))}]",
            {"media_category": [category]},
            caller.headers,
        )
    if total <= 0 or total > _max_bytes(category):
        raise invalid_request(
            state,
            f"total_bytes [{total}] is out of range for {category}",
            {"total_bytes": [str(total)]},
            caller.headers,
        )
    media = Media(snowflake(state.clock), caller.user_id, media_type, category, total, state.now())
    state.media[media.id] = media
    return media


def _finalize(state: XState, media: Media) -> None:
    media.finalized_at = state.now()
    if media.asynchronous and state.fail_next_media > 0:
        state.fail_next_media -= 1
        media.fails = True


async def upload(request: Request) -> Response:
    """One shot: multipart `media` bytes, or JSON with base64 `media`; `media_category` required."""
    caller, _ = await guard(request, "media.upload", SCOPES)
    state = state_of(request)
    ctype = request.headers.get("content-type", "")
    fields: dict[str, Any] = {}
    data = b""
    if "multipart/form-data" in ctype:
        form = await request.form()
        fields = {k: v for k, v in form.items() if not isinstance(v, UploadFile)}
        part = form.get("media")
        data = await part.read() if isinstance(part, UploadFile) else str(part or "").encode()
    elif "application/json" in ctype:
        fields = await request.json()
        try:
            data = base64.b64decode(str(fields.get("media", "")), validate=True)
        except binascii.Error:
            raise invalid_request(
                state, "media is not valid base64", {"media": []}, caller.headers
            ) from None
    if "command" in fields or "command" in request.query_params:
        raise invalid_request(
            state,
            "The command parameter is deprecated; use "
            "/2/media/upload/initialize, /append and /finalize",
            {"command": [str(fields.get("command"))]},
            caller.headers,
        )
    category = str(fields.get("media_category", ""))
    if not data or not category:
        raise invalid_request(
            state,
            "media and media_category are required",
            {"media_category": [category]},
            caller.headers,
        )
    info = image_info(data)
    media_type = str(fields.get("media_type") or (info.mime if info else "video/mp4"))
    media = _new_media(state, caller, media_type, category, len(data))
    media.segments[0] = len(data)
    if info is not None:
        media.width, media.height = info.width, info.height
    _finalize(state, media)
    return answer(caller, {"data": render(state, media)})


async def initialize(request: Request) -> Response:
    caller, _ = await guard(request, "media.chunked", SCOPES)
    state = state_of(request)
    body = await request.json() if "json" in request.headers.get("content-type", "") else {}
    media_type = str(body.get("media_type", ""))
    total = body.get("total_bytes")
    if not isinstance(total, int):
        raise invalid_request(state, "total_bytes is required", {"total_bytes": []}, caller.headers)
    category = str(body.get("media_category") or _category_for(media_type))
    media = _new_media(state, caller, media_type, category, total)
    data = render(state, media, with_processing=False)
    data.pop("size")
    return answer(caller, {"data": data})


def _owned(state: XState, caller: Caller, media_id: str) -> Media:
    media = state.media.get(media_id)
    if media is None or media.owner_id != caller.user_id or state.media_expired(media):
        raise invalid_request(
            state, f"Media id [{media_id}] is not valid", {"id": [media_id]}, caller.headers
        )
    return media


async def append(request: Request) -> Response:
    caller, _ = await guard(request, "media.chunked", SCOPES)
    state = state_of(request)
    media = _owned(state, caller, request.path_params["id"])
    form = await request.form()
    part, index = form.get("media"), str(form.get("segment_index", ""))
    if media.finalized_at is not None:
        raise invalid_request(
            state, "Media is already finalized", {"id": [media.id]}, caller.headers
        )
    if not index.isdigit() or not 0 <= int(index) <= 999:
        raise invalid_request(
            state, "segment_index must be 0-999", {"segment_index": [index]}, caller.headers
        )
    if isinstance(part, UploadFile):
        chunk = await part.read()
    else:
        try:
            chunk = base64.b64decode(str(part or ""), validate=True)
        except binascii.Error:
            chunk = b""
    if not chunk:
        raise invalid_request(state, "media is required", {"media": []}, caller.headers)
    if int(index) == 0:
        info = image_info(chunk)
        if info is not None:
            media.width, media.height = info.width, info.height
    media.segments[int(index)] = len(chunk)
    expires = int(media.created_at + state.config.media_expires_after)
    return answer(caller, {"data": {"expires_at": expires}})


async def finalize(request: Request) -> Response:
    caller, _ = await guard(request, "media.chunked", SCOPES)
    state = state_of(request)
    media = _owned(state, caller, request.path_params["id"])
    if media.finalized_at is None:
        received = sum(media.segments.values())
        contiguous = sorted(media.segments) == list(range(len(media.segments)))
        if received != media.total_bytes or not contiguous:
            raise invalid_request(
                state,
                f"File size mismatch: received {received} of {media.total_bytes} bytes",
                {"id": [media.id]},
                caller.headers,
            )
        _finalize(state, media)
    return answer(caller, {"data": render(state, media)})


async def status(request: Request) -> Response:
    caller, _ = await guard(request, "media.status", SCOPES)
    state = state_of(request)
    q = request.query_params
    if q.get("command", "STATUS") != "STATUS":
        raise invalid_request(
            state, "command must be STATUS", {"command": [q["command"]]}, caller.headers
        )
    media = _owned(state, caller, q.get("media_id", ""))
    return answer(caller, {"data": render(state, media)})
