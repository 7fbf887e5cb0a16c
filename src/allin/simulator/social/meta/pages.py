"""Facebook Page publishing: POST /{page-id}/feed, /photos, /videos; reading back the feed,
posts, photos and videos."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from allin.simulator.social.common import Fault, after_commit
from allin.simulator.social.meta.fetch import fetch_media
from allin.simulator.social.meta.responses import Ctx, graph_error, param_error, phantom
from allin.simulator.social.meta.state import FeedPost, MetaState, Photo, Video, numeric_id
from allin.simulator.social.sniff import image_info, is_video


def graph_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_time(value: str) -> float | None:
    if value.isdigit():
        return float(value)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def require_publisher(state: MetaState, ctx: Ctx, page_id: str, video: bool = False) -> None:
    token = ctx.user
    needed = {"pages_manage_posts", "pages_read_engagement"} | (
        {"publish_video"} if video else set()
    )
    if token.kind != "PAGE" or token.page_id != page_id or not needed <= set(token.scopes):
        raise graph_error(
            403,
            200,
            "(#200) If posting to a page, requires both "
            "pages_read_engagement and pages_manage_posts as an admin with "
            "sufficient administrative permission",
        )


def require_reader(state: MetaState, ctx: Ctx, page_id: str) -> None:
    token = ctx.user
    if token.kind == "PAGE" and token.page_id == page_id:
        return
    if (
        token.kind == "USER"
        and page_id in state.users[token.user_id].pages
        and "pages_read_engagement" in token.scopes
    ):
        return
    raise graph_error(
        403,
        10,
        "(#10) This endpoint requires the 'pages_read_engagement' "
        "permission or the 'Page Public Content Access' feature.",
    )


def _new_post(state: MetaState, page_id: str, message: str) -> FeedPost:
    post = FeedPost(f"{page_id}_{numeric_id(16)}", page_id, message, state.now())
    state.posts[post.id] = post
    return post


def _check_message(state: MetaState, page_id: str, message: str) -> None:
    if len(message) > state.config.max_message:
        raise param_error(
            f"(#100) The message must be at most {state.config.max_message} characters long"
        )
    since = state.now() - state.config.duplicate_window
    for post in state.posts.values():
        if (
            post.page_id == page_id
            and message
            and post.message == message
            and post.created_time >= since
        ):
            raise graph_error(400, 506, "(#506) Duplicate status message")


def _schedule(state: MetaState, ctx: Ctx) -> tuple[bool, float | None]:
    published = ctx.flag("published", True)
    raw = ctx.text("scheduled_publish_time")
    if not raw:
        return published, None
    if published:
        raise param_error("(#100) You cannot specify a scheduled publish time on a published post")
    when = parse_time(raw)
    ahead = (when or 0) - state.now()
    if when is None or not state.config.schedule_min <= ahead <= state.config.schedule_max:
        raise param_error("(#100) The specified scheduled publish time is invalid.")
    return False, when


def _attached(state: MetaState, ctx: Ctx, page_id: str) -> list[str]:
    raw = ctx.params.get("attached_media")
    if raw is None:
        return []
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        items = None
    if not isinstance(items, list):
        raise param_error("(#100) param attached_media must be an array.")
    ids = [str(i.get("media_fbid", "")) if isinstance(i, dict) else "" for i in items]
    for photo_id in ids:
        photo = state.photos.get(photo_id)
        if photo is None or photo.page_id != page_id or photo.published or photo.attached:
            raise param_error(
                f"(#100) Invalid media_fbid {photo_id}: photos must be uploaded "
                "to this Page with published=false"
            )
    return ids


async def feed(state: MetaState, ctx: Ctx, page_id: str, fault: Fault | None) -> dict[str, Any]:
    require_publisher(state, ctx, page_id)
    message, link = ctx.text("message"), ctx.text("link") or None
    photo_ids = _attached(state, ctx, page_id)
    if not message and not link and not photo_ids:
        raise param_error("(#100) Missing message or attachment")
    published, scheduled = _schedule(state, ctx)
    _check_message(state, page_id, message)
    post = _new_post(state, page_id, message)
    post.link, post.published, post.scheduled_publish_time = link, published, scheduled
    post.photo_ids = photo_ids
    for photo_id in photo_ids:
        state.photos[photo_id].attached = True
    await after_commit(fault)
    phantom(fault, instagram=False)
    return {"id": post.id}


async def photos(state: MetaState, ctx: Ctx, page_id: str, fault: Fault | None) -> dict[str, Any]:
    require_publisher(state, ctx, page_id)
    data = ctx.files.get("source")
    if data is None and ctx.text("url"):
        data = await fetch_media(state, ctx.text("url"))
    if data is None or image_info(data) is None:
        raise graph_error(400, 324, "(#324) Missing or invalid image file")
    caption = ctx.text("caption") or ctx.text("message")
    published, scheduled = _schedule(state, ctx)
    if published:
        _check_message(state, page_id, caption)
    photo = Photo(numeric_id(16), page_id, caption, state.now(), published=published)
    state.photos[photo.id] = photo
    body: dict[str, Any] = {"id": photo.id}
    if published or scheduled is not None:
        post = _new_post(state, page_id, caption)
        post.photo_ids, post.published, post.scheduled_publish_time = (
            [photo.id],
            published,
            scheduled,
        )
        photo.post_id = post.id
        body["post_id"] = post.id
    await after_commit(fault)
    phantom(fault, instagram=False)
    return body


async def videos(state: MetaState, ctx: Ctx, page_id: str, fault: Fault | None) -> dict[str, Any]:
    require_publisher(state, ctx, page_id, video=True)
    data = ctx.files.get("source")
    if data is None and ctx.text("file_url"):
        data = await fetch_media(state, ctx.text("file_url"))
    if data is None or not is_video(data):
        raise graph_error(
            400,
            390,
            "There was a problem uploading your video file. Please try again with another file.",
            kind="OAuthException",
        )
    description = ctx.text("description")
    published, scheduled = _schedule(state, ctx)
    now = state.now()
    post = _new_post(state, page_id, description)
    post.published, post.scheduled_publish_time = published, scheduled
    post.visible_at = now + state.config.video_processing_secs
    video = Video(
        numeric_id(16), page_id, ctx.text("title"), description, now, post.visible_at, post.id
    )
    post.video_id = video.id
    state.videos[video.id] = video
    await after_commit(fault)
    phantom(fault, instagram=False)
    return {"id": video.id}


def render_post(state: MetaState, post: FeedPost, fields: set[str]) -> dict[str, Any]:
    _, _, local_id = post.id.partition("_")
    full: dict[str, Any] = {
        "id": post.id,
        "message": post.message,
        "created_time": graph_time(post.scheduled_publish_time or post.created_time),
        "permalink_url": f"https://www.facebook.com/{post.page_id}/posts/{local_id}",
        "is_published": post.is_published(state.now()),
        "status_type": "added_video"
        if post.video_id
        else "added_photos"
        if post.photo_ids
        else "mobile_status_update",
    }
    if post.scheduled_publish_time is not None:
        full["scheduled_publish_time"] = int(post.scheduled_publish_time)
    if post.link:
        full["link"] = post.link
    if post.photo_ids:
        full["attachments"] = {
            "data": [{"target": {"id": p}, "type": "photo"} for p in post.photo_ids]
        }
    if not post.message:
        full.pop("message")
    wanted = fields or {"id", "message", "created_time"}
    return {k: v for k, v in full.items() if k in wanted}


def list_posts(state: MetaState, ctx: Ctx, page_id: str, edge: str) -> dict[str, Any]:
    require_reader(state, ctx, page_id)
    now = state.now()
    since, until = parse_time(ctx.text("since")), parse_time(ctx.text("until"))
    scheduled = edge == "scheduled_posts"
    posts = [
        p
        for p in state.posts.values()
        if p.page_id == page_id
        and now >= p.visible_at
        and (p.is_published(now) != scheduled)
        and (since is None or p.created_time >= since)
        and (until is None or p.created_time <= until)
        and (scheduled or p.published or p.scheduled_publish_time is not None)
    ]
    posts.sort(key=lambda p: p.scheduled_publish_time or p.created_time, reverse=True)
    return paged([render_post(state, p, ctx.fields()) for p in posts], ctx)


def paged(rows: list[dict[str, Any]], ctx: Ctx) -> dict[str, Any]:
    limit = int(ctx.text("limit", "25")) if ctx.text("limit", "25").isdigit() else 25
    start = int(ctx.text("after")) if ctx.text("after").isdigit() else 0
    page = rows[start : start + limit]
    body: dict[str, Any] = {"data": page}
    if rows:
        cursors = {"before": str(start), "after": str(start + len(page))}
        body["paging"] = {"cursors": cursors}
        if start + limit < len(rows):
            body["paging"]["next"] = f"?limit={limit}&after={start + len(page)}"
    return body


def render_object(state: MetaState, ctx: Ctx, object_id: str) -> dict[str, Any] | None:
    """GET /{id} for Pages, Page posts, photos and videos; None when the id is none of them."""
    fields = ctx.fields()
    if object_id in state.pages:
        page = state.pages[object_id]
        full: dict[str, Any] = {"id": page.id, "name": page.name, "category": page.category}
        if page.instagram_id:
            full["instagram_business_account"] = {"id": page.instagram_id}
        return {k: v for k, v in full.items() if k in (fields or {"id", "name"}) or k == "id"}
    post = state.posts.get(object_id)
    if post is not None and state.now() >= post.visible_at:
        require_reader(state, ctx, post.page_id)
        return render_post(state, post, fields)
    if object_id in state.photos:
        photo = state.photos[object_id]
        require_reader(state, ctx, photo.page_id)
        row = {
            "id": photo.id,
            "name": photo.caption,
            "created_time": graph_time(photo.created_time),
            "post_id": photo.post_id,
        }
        return {
            k: v
            for k, v in row.items()
            if v is not None and (k in (fields or {"id", "created_time", "name"}) or k == "id")
        }
    if object_id in state.videos:
        return _render_video(state, ctx, state.videos[object_id], fields)
    return None


def _render_video(state: MetaState, ctx: Ctx, video: Video, fields: set[str]) -> dict[str, Any]:
    require_reader(state, ctx, video.page_id)
    ready = state.now() >= video.ready_at
    phase = "complete" if ready else "in_progress"
    full: dict[str, Any] = {
        "id": video.id,
        "title": video.title,
        "description": video.description,
        "created_time": graph_time(video.created_time),
        "status": {
            "video_status": "ready" if ready else "processing",
            "uploading_phase": {"status": "complete"},
            "processing_phase": {"status": phase},
            "publishing_phase": {"status": "complete" if ready else "not_started"},
        },
    }
    if ready:
        full["post_id"] = video.post_id
        full["permalink_url"] = f"/{video.page_id}/videos/{video.id}/"
    return {
        k: v
        for k, v in full.items()
        if k in (fields or {"id", "title", "description", "created_time"}) or k == "id"
    }


def delete_post(state: MetaState, ctx: Ctx, object_id: str) -> dict[str, Any] | None:
    post = state.posts.get(object_id)
    if post is None:
        return None
    require_publisher(state, ctx, post.page_id)
    del state.posts[object_id]
    return {"success": True}
