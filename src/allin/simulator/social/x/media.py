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


async def _params(
    request: Request, state: XState, caller: Caller
) -> tuple[dict[str, Any], bytes | None]:
    """The fields of a multipart, form or JSON request, and the `media` bytes if any
    (multipart file, or base64 text)."""
    ctype = request.headers.get("content-type", "")
    fields: dict[str, Any] = {}
    raw: object = None
    if "form" in ctype:
        form = await request.form()
        fields = {k: v for k, v in form.items() if not isinstance(v, UploadFile)}
        raw = form.get("media")
    elif "application/json" in ctype:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise invalid_request(state, "Request body must be a JSON object", {}, caller.headers)
        fields, raw = body, body.get("media")
    if isinstance(raw, UploadFile):
        return fields, await raw.read()
    if raw is None:
        return fields, None
    try:
        return fields, base64.b64decode(str(raw), validate=True)
    except binascii.Error:
        raise invalid_request(
            state, "media is not valid base64", {"media": []}, caller.headers
        ) from None


async def upload(request: Request) -> Response:
    """One shot: multipart `media` bytes, or JSON with base64 `media`; `media_category`
    required. Also the older `command=INIT|APPEND|FINALIZE` form the quickstart still shows."""
    state = state_of(request)
    command = request.query_params.get("command")
    endpoint = "media.chunked" if command else "media.upload"
    caller, _ = await guard(request, endpoint, SCOPES)
    fields, data = await _params(request, state, caller)
    command = str(fields.get("command") or command or "")
    if command == "INIT":
        return _initialize(state, caller, fields)
    if command == "APPEND":
        _append(
            state,
            caller,
            _owned(state, caller, str(fields.get("media_id", ""))),
            str(fields.get("segment_index", "")),
            data,
        )
        return Response(b"", 204, headers=caller.headers)
    if command == "FINALIZE":
        return _finalize_upload(state, caller, str(fields.get("media_id", "")))
    if command:
        raise invalid_request(
            state,
            f"command [{command}] is not one of [INIT, APPEND, FINALIZE, STATUS]",
            {"command": [command]},
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
    fields, _ = await _params(request, state, caller)
    return _initialize(state, caller, fields)


def _initialize(state: XState, caller: Caller, fields: dict[str, Any]) -> Response:
    media_type = str(fields.get("media_type", ""))
    total = fields.get("total_bytes")
    if isinstance(total, str) and total.isdigit():
        total = int(total)
    if not isinstance(total, int):
        raise invalid_request(state, "total_bytes is required", {"total_bytes": []}, caller.headers)
    category = str(fields.get("media_category") or _category_for(media_type))
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
    fields, data = await _params(request, state, caller)
    _append(state, caller, media, str(fields.get("segment_index", "")), data)
    expires = int(media.created_at + state.config.media_expires_after)
    return answer(caller, {"data": {"expires_at": expires}})


def _append(state: XState, caller: Caller, media: Media, index: str, chunk: bytes | None) -> None:
    if media.finalized_at is not None:
        raise invalid_request(
            state, "Media is already finalized", {"id": [media.id]}, caller.headers
        )
    if not index.isdigit() or not 0 <= int(index) <= 999:
        raise invalid_request(
            state, "segment_index must be 0-999", {"segment_index": [index]}, caller.headers
        )
    if not chunk:
        raise invalid_request(state, "media is required", {"media": []}, caller.headers)
    if int(index) == 0:
        info = image_info(chunk)
        if info is not None:
            media.width, media.height = info.width, info.height
    media.segments[int(index)] = len(chunk)


async def finalize(request: Request) -> Response:
    caller, _ = await guard(request, "media.chunked", SCOPES)
    return _finalize_upload(state_of(request), caller, request.path_params["id"])


def _finalize_upload(state: XState, caller: Caller, media_id: str) -> Response:
    media = _owned(state, caller, media_id)
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
