"""Instagram content publishing through the Graph API: containers (POST /{ig-user-id}/media),
their status, /media_publish, /content_publishing_limit, and reading media back."""

from __future__ import annotations

import math
import re
import secrets
import string
from typing import Any

from starlette.requests import Request

from allin.simulator.social.common import Fault, after_commit
from allin.simulator.social.meta.fetch import fetch_media
from allin.simulator.social.meta.pages import graph_time, paged, parse_time
from allin.simulator.social.meta.responses import Ctx, graph_error, ig_error, param_error, phantom
from allin.simulator.social.meta.state import Container, IgMedia, MetaState, numeric_id
from allin.simulator.social.sniff import image_info, is_video

_HASHTAG = re.compile(r"(?<!\w)#\w+")
_MENTION = re.compile(r"(?<![\w@])@[\w.]+")
_STATUS_TEXT = {
    "IN_PROGRESS": "In Progress: Media is still being processed.",
    "FINISHED": "Finished: Media has been uploaded and it is ready to be published.",
    "PUBLISHED": "Published: Media has been successfully published.",
    "EXPIRED": "Expired: Media was not published within 24 hours.",
}


def require_instagram(state: MetaState, ctx: Ctx, ig_id: str, publish: bool) -> None:
    """A user token of someone with a role on the linked Page, or that Page's token, with
    instagram_basic (+ instagram_content_publish to publish)."""
    token = ctx.user
    page = state.page_of_instagram(ig_id)
    has_role = page is not None and (
        (token.kind == "USER" and page.id in state.users[token.user_id].pages)
        or (token.kind == "PAGE" and token.page_id == page.id)
    )
    if not has_role:
        raise graph_error(
            400,
            100,
            f"Unsupported request. Object with ID '{ig_id}' does not "
            "exist, cannot be loaded due to missing permissions, or does not "
            "support this operation.",
            33,
            kind="GraphMethodException",
        )
    if "instagram_basic" not in token.scopes or (
        publish and "instagram_content_publish" not in token.scopes
    ):
        raise graph_error(403, 10, "(#10) Application does not have permission for this action")


def _check_caption(state: MetaState, caption: str) -> None:
    if (
        len(caption) > state.config.caption_max
        or len(_HASHTAG.findall(caption)) > state.config.hashtag_cap
    ):
        raise ig_error(
            36004,
            2207010,
            "The caption is too long.",
            "Caption too long",
            f"The caption exceeds {state.config.caption_max} characters or "
            f"{state.config.hashtag_cap} hashtags.",
        )
    if len(_MENTION.findall(caption)) > state.config.mention_cap:
        raise ig_error(
            100,
            2207040,
            "Invalid parameter",
            "Too many tags",
            f"Cannot use more than {state.config.mention_cap} tags per post.",
        )


async def _check_image(state: MetaState, url: str, story: bool) -> None:
    data = await fetch_media(state, url)
    if data is None:
        raise ig_error(
            9004,
            2207052,
            "The media could not be fetched from this uri",
            "Media download has failed.",
            f"The media could not be fetched from this URI: {url}",
        )
    info = image_info(data)
    if info is None or info.mime != "image/jpeg":
        raise ig_error(
            36001,
            2207005,
            "The image format is not supported.",
            "Unsupported format",
            "The image format is not supported. Supported formats are: JPEG",
        )
    if len(data) > state.config.max_image_bytes:
        raise ig_error(
            36000,
            2207004,
            "The image is too large to download.",
            "Image size too large",
            "The image is too large to download. It should be less than 8 MiB.",
        )
    ratio = info.width / info.height if info.height else 0.0
    if not story and not 0.8 <= ratio <= 1.91:
        raise ig_error(
            36003,
            2207009,
            "The aspect ratio is not supported.",
            "Aspect ratio not supported",
            f"The submitted image with aspect ratio "
            f"('{info.width}/{info.height}') cannot be published. Please submit an "
            "image with a valid aspect ratio.",
        )


async def _video_subcode(state: MetaState, url: str) -> int | None:
    data = await fetch_media(state, url)
    if data is None:
        raise ig_error(
            9004,
            2207052,
            "The media could not be fetched from this uri",
            "Media download has failed.",
            f"The media could not be fetched from this URI: {url}",
        )
    return None if is_video(data) else 2207026


def _carousel_error(message: str) -> Exception:
    return ig_error(100, 2207028, "Invalid parameter", "Carousel is invalid", message)


def _children(state: MetaState, ctx: Ctx, ig_id: str) -> list[str]:
    ids = [c.strip() for c in ctx.text("children").split(",") if c.strip()]
    if not 2 <= len(ids) <= 10:
        raise _carousel_error("A carousel needs between 2 and 10 items.")
    for child_id in ids:
        child = state.containers.get(child_id)
        if child is None or child.ig_id != ig_id or not child.is_carousel_item:
            raise _carousel_error(f"{child_id} is not a carousel item of this account.")
        if state.container_status(child) != "FINISHED":
            raise _carousel_error(f"Carousel item {child_id} is not finished.")
    return ids


async def create_container(state: MetaState, ctx: Ctx, ig_id: str) -> dict[str, Any]:
    require_instagram(state, ctx, ig_id, publish=True)
    config = state.config
    if state.containers_today(ig_id) >= config.container_cap:
        raise ig_error(
            9,
            2207042,
            "Application request limit reached",
            "Too many containers",
            f"An account can create at most {config.container_cap} containers in 24 hours.",
        )
    media_type = ctx.text("media_type", "IMAGE").upper()
    carousel_item = ctx.flag("is_carousel_item", False)
    caption = ctx.text("caption")
    if media_type not in {"IMAGE", "VIDEO", "REELS", "STORIES", "CAROUSEL"}:
        raise ig_error(
            100,
            2207023,
            "Invalid parameter",
            "Unknown media type",
            f"The media type {media_type} is unknown.",
        )
    if media_type == "VIDEO" and not carousel_item:
        raise param_error("The VIDEO media type is no longer supported for feed posts; use REELS.")
    if carousel_item and (caption or media_type in {"REELS", "STORIES", "CAROUSEL"}):
        raise param_error("Carousel items take no caption and cannot be reels or stories.")
    _check_caption(state, caption)
    now = state.now()
    container = Container(
        numeric_id(17, "178"), ig_id, media_type, caption, now, now, carousel_item
    )
    if media_type == "CAROUSEL":
        container.children = _children(state, ctx, ig_id)
    elif ctx.text("upload_type") == "resumable" and media_type in {"REELS", "VIDEO", "STORIES"}:
        container.ready_at = math.inf  # until the bytes arrive at the upload URI
        state.containers[container.id] = container
        uri = f"{ctx.base_url}/ig-api-upload/{ctx.version}/{container.id}"
        return {"id": container.id, "uri": uri}
    elif ctx.text("video_url"):
        container.error_subcode = await _video_subcode(state, ctx.text("video_url"))
        container.ready_at = now + config.ig_video_processing_secs
    elif ctx.text("image_url") and media_type in {"IMAGE", "STORIES"}:
        await _check_image(state, ctx.text("image_url"), media_type == "STORIES")
        container.ready_at = now + config.image_processing_secs
    else:
        raise param_error("The parameter image_url or video_url is required.")
    state.containers[container.id] = container
    return {"id": container.id}


async def resumable_upload(
    state: MetaState, ctx: Ctx, container_id: str, request: Request
) -> dict[str, Any]:
    """POST <uri> with `Authorization: OAuth <token>`, `offset`, `file_size` and the bytes (or a
    `file_url` header): the container then processes like one created from a video_url."""
    container = state.containers.get(container_id)
    if container is None or container.ready_at != math.inf:
        raise ig_error(
            24,
            2207008,
            "The media container does not exist or has expired.",
            "Media container not found",
            "Upload to a resumable container.",
        )
    require_instagram(state, ctx, container.ig_id, publish=True)
    file_url = request.headers.get("file_url")
    if file_url:
        data = await fetch_media(state, file_url)
        if data is None:
            raise ig_error(
                9004,
                2207052,
                "The media could not be fetched from this uri",
                "Media download has failed.",
                f"Could not fetch {file_url}",
            )
    else:
        data = await request.body()
        size = request.headers.get("file_size", "")
        if (
            request.headers.get("offset", "0") != "0"
            or not size.isdigit()
            or int(size) != len(data)
        ):
            raise param_error("offset must be 0 and file_size the number of bytes sent")
    container.error_subcode = None if is_video(data) else 2207026
    container.ready_at = state.now() + state.config.ig_video_processing_secs
    return {"success": True, "message": "Upload successful."}


def render_container(state: MetaState, ctx: Ctx, container: Container) -> dict[str, Any]:
    status = state.container_status(container)
    text = _STATUS_TEXT.get(status) or (
        f"Error: Media upload has failed with error code {container.error_subcode}"
    )
    full = {"id": container.id, "status_code": status, "status": text}
    fields = ctx.fields() or {"id"}
    return {k: v for k, v in full.items() if k in fields or k == "id"}


async def publish(state: MetaState, ctx: Ctx, ig_id: str, fault: Fault | None) -> dict[str, Any]:
    require_instagram(state, ctx, ig_id, publish=True)
    creation_id = ctx.text("creation_id")
    if not creation_id:
        raise param_error("The parameter creation_id is required.")
    container = state.containers.get(creation_id)
    status = state.container_status(container) if container is not None else "EXPIRED"
    if container is None or container.ig_id != ig_id or status == "EXPIRED":
        raise ig_error(
            24,
            2207008,
            "The media container does not exist or has expired.",
            "Media container not found",
            "The container was not found or has expired. Create a new container.",
        )
    if status == "PUBLISHED" and state.config.republish == "same_id":
        return {"id": container.media_id}
    if status in ("IN_PROGRESS", "PUBLISHED"):
        raise ig_error(
            9007,
            2207027,
            "Media ID is not available",
            "Media not ready for publishing",
            "The media is not ready for publishing, please wait for a moment",
        )
    if status == "ERROR":
        raise ig_error(
            -1,
            2207032,
            "Failed to create media",
            "Media creation failed",
            "The media could not be created; create a new container.",
        )
    if state.quota_usage(ig_id) >= state.config.publish_quota:
        raise ig_error(
            9,
            2207042,
            "Application request limit reached",
            "Maximum posts reached",
            "You reached maximum number of posts that is allowed to be "
            "published by Content Publishing API.",
        )
    media = _publish(state, container)
    await after_commit(fault)
    phantom(fault, instagram=True)
    return {"id": media.id}


def _publish(state: MetaState, container: Container) -> IgMedia:
    kind = {
        "IMAGE": ("IMAGE", "FEED"),
        "REELS": ("VIDEO", "REELS"),
        "CAROUSEL": ("CAROUSEL_ALBUM", "FEED"),
    }.get(container.media_type)
    if container.media_type == "STORIES":
        kind = ("VIDEO" if container.ready_at > container.created_at else "IMAGE", "STORY")
    media_type, product = kind or ("IMAGE", "FEED")
    alphabet = string.ascii_letters + string.digits + "_-"
    shortcode = "".join(secrets.choice(alphabet) for _ in range(11))
    media = IgMedia(
        numeric_id(17, "179"),
        container.ig_id,
        container.caption,
        state.now(),
        media_type,
        product,
        shortcode,
        list(container.children),
    )
    state.ig_media[media.id] = media
    container.media_id = media.id
    state.publishes.append((media.timestamp, container.ig_id))
    return media


def publishing_limit(state: MetaState, ctx: Ctx, ig_id: str) -> dict[str, Any]:
    require_instagram(state, ctx, ig_id, publish=False)
    row: dict[str, Any] = {"quota_usage": state.quota_usage(ig_id)}
    if "config" in ctx.fields():
        row["config"] = {"quota_total": state.config.publish_quota, "quota_duration": 86_400}
    return {"data": [row]}


def render_media(state: MetaState, media: IgMedia, fields: set[str]) -> dict[str, Any]:
    account = state.instagram[media.ig_id]
    full: dict[str, Any] = {
        "id": media.id,
        "caption": media.caption,
        "timestamp": graph_time(media.timestamp),
        "media_type": media.media_type,
        "media_product_type": media.product_type,
        "permalink": f"https://www.instagram.com/p/{media.shortcode}/",
        "shortcode": media.shortcode,
        "username": account.username,
        "media_url": f"https://scontent.cdninstagram.com/v/{media.id}.jpg",
    }
    if media.children:
        full["children"] = {"data": [{"id": c} for c in media.children]}
    if not media.caption:
        full.pop("caption")
    return {k: v for k, v in full.items() if k in (fields or {"id"}) or k == "id"}


def list_media(state: MetaState, ctx: Ctx, ig_id: str, stories: bool) -> dict[str, Any]:
    require_instagram(state, ctx, ig_id, publish=False)
    since, until = parse_time(ctx.text("since")), parse_time(ctx.text("until"))
    found = [
        m
        for m in state.ig_media.values()
        if m.ig_id == ig_id
        and (m.product_type == "STORY") == stories
        and (since is None or m.timestamp >= since)
        and (until is None or m.timestamp <= until)
    ]
    found.sort(key=lambda m: m.timestamp, reverse=True)
    return paged([render_media(state, m, ctx.fields()) for m in found[:10_000]], ctx)


def render_account(state: MetaState, ctx: Ctx, ig_id: str) -> dict[str, Any]:
    require_instagram(state, ctx, ig_id, publish=False)
    account = state.instagram[ig_id]
    full = {
        "id": account.id,
        "username": account.username,
        "name": account.name,
        "profile_picture_url": f"https://scontent.cdninstagram.com/{account.id}/profile.jpg",
        "followers_count": account.followers_count,
        "media_count": sum(1 for m in state.ig_media.values() if m.ig_id == ig_id),
    }
    return {k: v for k, v in full.items() if k in (ctx.fields() or {"id"}) or k == "id"}


def render_ig_object(state: MetaState, ctx: Ctx, object_id: str) -> dict[str, Any] | None:
    if object_id in state.instagram:
        return render_account(state, ctx, object_id)
    container = state.containers.get(object_id)
    if container is not None:
        require_instagram(state, ctx, container.ig_id, publish=False)
        return render_container(state, ctx, container)
    media = state.ig_media.get(object_id)
    if media is not None:
        require_instagram(state, ctx, media.ig_id, publish=False)
        return render_media(state, media, ctx.fields())
    return None
