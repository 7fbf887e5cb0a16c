"""Display API (user info, video list/query) and Content Posting API (creator_info, inits,
status, cancel), with the documented scopes, limits, caps and error codes."""

from __future__ import annotations

import ipaddress
import secrets
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from allin.core.clock import clock
from allin.simulator.open_api.pull import start_pull
from allin.simulator.open_api.responses import (
    ApiFailure,
    apply_fault,
    bearer,
    envelope,
    fields_param,
    json_body,
    rate_limit,
    utf16_len,
    world_of,
)
from allin.simulator.open_api.state import Publish, SimUser, SimVideo, World

USER_FIELD_SCOPES = {
    "open_id": "user.info.basic",
    "union_id": "user.info.basic",
    "avatar_url": "user.info.basic",
    "avatar_url_100": "user.info.basic",
    "avatar_large_url": "user.info.basic",
    "display_name": "user.info.basic",
    "bio_description": "user.info.profile",
    "profile_deep_link": "user.info.profile",
    "profile_web_link": "user.info.profile",
    "is_verified": "user.info.profile",
    "username": "user.info.profile",
    "follower_count": "user.info.stats",
    "following_count": "user.info.stats",
    "likes_count": "user.info.stats",
    "video_count": "user.info.stats",
}
VIDEO_FIELDS = frozenset(
    {
        "id",
        "create_time",
        "cover_image_url",
        "share_url",
        "video_description",
        "duration",
        "height",
        "width",
        "title",
        "embed_html",
        "embed_link",
        "like_count",
        "comment_count",
        "share_count",
        "view_count",
    }
)
PRIVACY_LEVELS = frozenset(
    {"PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"}
)


def _user(world: World, open_id: str) -> SimUser:
    return world.users[open_id]


# --- Display API ---


async def user_info(request: Request) -> Response:
    world = world_of(request)
    await apply_fault(world, "user_info")
    token = bearer(world, request, "user.info.basic")
    rate_limit(world, "user_info", "app")
    fields = fields_param(request)
    assert token.grant is not None
    unknown = [f for f in fields if f not in USER_FIELD_SCOPES]
    if unknown:
        raise ApiFailure(400, "invalid_params", f"unknown fields: {','.join(unknown)}")
    missing = {USER_FIELD_SCOPES[f] for f in fields} - set(token.grant.scopes)
    if missing:
        code = world.config.missing_field_scope_error
        raise ApiFailure(401 if code == "scope_not_authorized" else 400, code, "fields need scopes")
    user = _user(world, token.grant.open_id)
    return envelope({"user": {f: _user_field(user, f) for f in fields}})


def _user_field(user: SimUser, field: str) -> Any:
    if field.startswith("avatar"):
        return f"https://p16.tiktokcdn.example/{user.open_id}/{field}.jpeg"
    if field == "profile_deep_link" or field == "profile_web_link":
        return f"https://www.tiktok.com/@{user.username}"
    if field == "video_count":
        return len(user.videos)
    return getattr(user, field)


def _video_json(user: SimUser, video: SimVideo, fields: list[str], world: World) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": str(video.id),
        "create_time": video.create_time,
        "cover_image_url": f"https://p16.tiktokcdn.example/cover/{video.id}.jpeg",
        "share_url": f"https://www.tiktok.com/@{user.username}/video/{video.id}"
        f"?utm_campaign=tt4d_open_api&utm_source={world.config.client_key}",
        "video_description": video.title[:150],
        "duration": video.duration,
        "height": video.height,
        "width": video.width,
        "title": video.title[:150],
        "embed_html": f'<blockquote class="tiktok-embed" data-video-id="{video.id}"></blockquote>',
        "embed_link": f"https://www.tiktok.com/static/profile-video?id={video.id}&hide_author=1",
        "like_count": video.like_count,
        "comment_count": video.comment_count,
        "share_count": video.share_count,
        "view_count": video.view_count,
    }
    return {f: values[f] for f in fields}


def _video_fields(request: Request) -> list[str]:
    fields = fields_param(request)
    unknown = [f for f in fields if f not in VIDEO_FIELDS]
    if unknown:
        raise ApiFailure(400, "invalid_params", f"unknown fields: {','.join(unknown)}")
    return fields


async def video_list(request: Request) -> Response:
    world = world_of(request)
    await apply_fault(world, "video_list")
    token = bearer(world, request, "video.list")
    rate_limit(world, "video_list", "app")
    fields = _video_fields(request)
    body = await json_body(request)
    max_count = body.get("max_count", 10)
    if not isinstance(max_count, int) or not 1 <= max_count <= 20:
        raise ApiFailure(400, "invalid_params", "max_count must be 1..20")
    cursor = body.get("cursor")
    if cursor is not None and not isinstance(cursor, int):
        raise ApiFailure(400, "invalid_params", "cursor must be an int64 (ms)")
    assert token.grant is not None
    user = _user(world, token.grant.open_id)
    public = sorted(
        (v for v in user.videos if v.privacy == "PUBLIC_TO_EVERYONE"),
        key=lambda v: v.create_time,
        reverse=True,
    )
    if cursor is not None:
        public = [v for v in public if v.create_time * 1000 < cursor]
    page = public[:max_count]
    next_cursor = page[-1].create_time * 1000 if page else (cursor or 0)
    return envelope(
        {
            "videos": [_video_json(user, v, fields, world) for v in page],
            "cursor": next_cursor,
            "has_more": len(public) > max_count,
        }
    )


async def video_query(request: Request) -> Response:
    world = world_of(request)
    await apply_fault(world, "video_query")
    token = bearer(world, request, "video.list")
    rate_limit(world, "video_query", "app")
    fields = _video_fields(request)
    body = await json_body(request)
    ids = (body.get("filters") or {}).get("video_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 20:
        raise ApiFailure(400, "invalid_params", "filters.video_ids must hold 1..20 ids")
    assert token.grant is not None
    user = _user(world, token.grant.open_id)
    mine = {str(v.id): v for v in user.videos}
    videos = [_video_json(user, mine[str(i)], fields, world) for i in ids if str(i) in mine]
    return envelope({"videos": videos, "cursor": 0, "has_more": False})


# --- Content Posting API ---


def _posting_guards(world: World, request: Request, endpoint: str, *scopes: str) -> SimUser:
    token = bearer(world, request, *scopes)
    rate_limit(world, endpoint, token.token)
    assert token.grant is not None
    return _user(world, token.grant.open_id)


def _caps(world: World, user: SimUser, *, pending_shares: bool = False) -> str | None:
    if user.banned:
        return "spam_risk_user_banned_from_posting"
    if world.posts_today(user.open_id) >= world.config.daily_post_cap:
        return "spam_risk_too_many_posts"
    if pending_shares and world.pending_shares(user.open_id) >= world.config.pending_share_cap:
        return "spam_risk_too_many_pending_share"
    if world.over_user_cap(user.open_id):
        return "reached_active_user_cap"
    return None


async def creator_info(request: Request) -> Response:
    world = world_of(request)
    await apply_fault(world, "creator_info")
    user = _posting_guards(world, request, "creator_info", "video.publish")
    cap = _caps(world, user)
    if cap is not None:
        raise ApiFailure(200, cap, "the creator cannot post right now")  # intentionally HTTP 200
    return envelope(
        {
            "creator_avatar_url": f"https://p16.tiktokcdn.example/{user.open_id}/avatar.jpeg",
            "creator_username": user.username,
            "creator_nickname": user.display_name,
            "privacy_level_options": user.privacy_level_options,
            "comment_disabled": user.comment_disabled,
            "duet_disabled": user.duet_disabled or user.private_account,
            "stitch_disabled": user.stitch_disabled or user.private_account,
            "max_video_post_duration_sec": user.max_video_post_duration_sec,
        }
    )


def _check_post_info(world: World, user: SimUser, info: Any, *, max_title: int) -> tuple[str, str]:
    if not isinstance(info, dict):
        raise ApiFailure(400, "invalid_params", "post_info is required")
    privacy = info.get("privacy_level")
    if privacy not in PRIVACY_LEVELS or privacy not in user.privacy_level_options:
        raise ApiFailure(403, "privacy_level_option_mismatch", "privacy_level not in the options")
    title = info.get("title") or ""
    if not isinstance(title, str) or utf16_len(title) > max_title:
        raise ApiFailure(400, "invalid_params", f"title exceeds {max_title} characters")
    if info.get("brand_content_toggle") and privacy == "SELF_ONLY":
        raise ApiFailure(400, "invalid_params", "branded content cannot be SELF_ONLY")
    if not world.config.audited:
        if not user.private_account:
            raise ApiFailure(
                403,
                "unaudited_client_can_only_post_to_private_accounts",
                "Please review our integration guidelines",
            )
        if privacy != "SELF_ONLY":
            raise ApiFailure(403, "privacy_level_option_mismatch", "unaudited: SELF_ONLY only")
    return str(privacy), title


def chunk_problem(world: World, size: int, chunk: int, count: int) -> str | None:
    """The media transfer guide's rules, with the simulator's configured MB units."""
    c = world.config
    if size <= 0 or chunk <= 0 or size > c.max_video_bytes:
        return "The video size is invalid"
    if not 1 <= count <= 1000 or count != size // chunk:
        return "The total chunk count is invalid"
    if size < c.chunk_min and chunk != size:
        return "The chunk size is invalid"
    if size > c.chunk_max and count < 2:
        return "The chunk size is invalid"
    if count == 1 and chunk != size:
        return "The chunk size is invalid"
    if count > 1 and not c.chunk_min <= chunk <= c.chunk_max:
        return "The chunk size is invalid"
    if size - chunk * (count - 1) > c.final_chunk_max:
        return "The chunk size is invalid"
    return None


def url_verified(world: World, url: str) -> bool:
    parts = urlsplit(url)
    if world.config.pull_require_https and parts.scheme != "https":
        return False
    host = parts.hostname or ""
    for domain in world.config.verified_domains:
        if host == domain or host.endswith("." + domain):
            return True
    # A URL-prefix verification names a host, never an IP address.
    return not _is_ip(host) and any(
        url.startswith(prefix) for prefix in world.config.verified_url_prefixes
    )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _source(world: World, request: Request, publish: Publish, source: Any) -> dict[str, Any]:
    """Validate source_info, wire up the upload or the download; returns the response data."""
    kind = source.get("source") if isinstance(source, dict) else None
    if kind == "FILE_UPLOAD":  # numbers already checked by _preflight_source
        publish.total = int(source["video_size"])
        publish.chunk_size = int(source["chunk_size"])
        publish.chunk_count = int(source["total_chunk_count"])
        publish.upload_id = str(secrets.randbelow(10**12))
        publish.upload_token = secrets.token_urlsafe(16)
        publish.upload_expires = clock.monotonic() + world.config.upload_url_ttl
        world.uploads[publish.upload_id] = publish.publish_id
        base = world.config.upload_base_url or str(request.base_url).rstrip("/")
        url = f"{base}/video/?upload_id={publish.upload_id}&upload_token={publish.upload_token}"
        return {"publish_id": publish.publish_id, "upload_url": url}
    publish.url = str(source["video_url"])
    start_pull(world, publish, [publish.url])
    return {"publish_id": publish.publish_id}


def _check_url_source(world: World, source: Any) -> None:
    if isinstance(source, dict) and source.get("source") == "PULL_FROM_URL":
        url = source.get("video_url")
        if isinstance(url, str) and url and not url_verified(world, url):
            raise ApiFailure(403, "url_ownership_unverified", "the URL's domain is not verified")


async def video_init(request: Request) -> Response:
    world = world_of(request)
    await apply_fault(world, "video_init")
    user = _posting_guards(world, request, "video_init", "video.publish")
    body = await json_body(request)
    cap = _caps(world, user)
    if cap is not None:
        raise ApiFailure(403, cap, "the creator cannot post right now")
    privacy, title = _check_post_info(world, user, body.get("post_info"), max_title=2200)
    source = _preflight_source(world, body.get("source_info"))
    _check_url_source(world, source)
    publish = world.new_publish(user.open_id, "direct", source["source"], privacy, title)
    return envelope(_source(world, request, publish, source))


async def inbox_init(request: Request) -> Response:
    world = world_of(request)
    await apply_fault(world, "inbox_init")
    user = _posting_guards(world, request, "inbox_init", "video.upload")
    body = await json_body(request)
    cap = _caps(world, user, pending_shares=True)
    if cap == "spam_risk_too_many_posts":
        cap = None  # the daily post cap is for Direct Post; drafts have their own
    if cap is not None:
        raise ApiFailure(403, cap, "the creator cannot upload right now")
    source = _preflight_source(world, body.get("source_info"))
    _check_url_source(world, source)
    publish = world.new_publish(user.open_id, "inbox", source["source"], "SELF_ONLY", "")
    return envelope(_source(world, request, publish, source))


def _preflight_source(world: World, source: Any) -> dict[str, Any]:
    """Reject a bad source before a publish exists (nothing is created on a 400)."""
    if not isinstance(source, dict) or source.get("source") not in ("FILE_UPLOAD", "PULL_FROM_URL"):
        raise ApiFailure(400, "invalid_params", "source must be FILE_UPLOAD or PULL_FROM_URL")
    if source["source"] == "FILE_UPLOAD":
        nums = [source.get(k) for k in ("video_size", "chunk_size", "total_chunk_count")]
        if not all(isinstance(n, int) for n in nums):
            raise ApiFailure(400, "invalid_params", "video_size, chunk_size, total_chunk_count")
        problem = chunk_problem(world, *nums)  # type: ignore[arg-type]
        if problem:
            raise ApiFailure(400, "invalid_params", problem)
    elif not isinstance(source.get("video_url"), str) or not source["video_url"]:
        raise ApiFailure(400, "invalid_params", "video_url is required")
    return source


async def content_init(request: Request) -> Response:
    world = world_of(request)
    await apply_fault(world, "content_init")
    user = _posting_guards(world, request, "content_init", "video.publish", "video.upload")
    body = await json_body(request)
    if body.get("media_type") != "PHOTO":
        raise ApiFailure(400, "invalid_params", "media_type must be PHOTO")
    mode = body.get("post_mode")
    if mode not in ("DIRECT_POST", "MEDIA_UPLOAD"):
        raise ApiFailure(400, "invalid_params", "post_mode must be DIRECT_POST or MEDIA_UPLOAD")
    cap = _caps(world, user, pending_shares=mode == "MEDIA_UPLOAD")
    if cap is not None:
        raise ApiFailure(403, cap, "the creator cannot post right now")
    info = body.get("post_info") or {}
    if mode == "DIRECT_POST":
        privacy, title = _check_post_info(world, user, info, max_title=90)
    else:
        privacy, title = "SELF_ONLY", str(info.get("title") or "")
        if utf16_len(title) > 90:
            raise ApiFailure(400, "invalid_params", "title exceeds 90 characters")
    if utf16_len(str(info.get("description") or "")) > 4000:
        raise ApiFailure(400, "invalid_params", "description exceeds 4000 characters")
    source = body.get("source_info") or {}
    images = source.get("photo_images")
    if source.get("source") != "PULL_FROM_URL" or not isinstance(images, list):
        raise ApiFailure(400, "invalid_params", "photos support PULL_FROM_URL only")
    if not 1 <= len(images) <= 35:
        raise ApiFailure(400, "invalid_params", "photo_images must hold 1..35 URLs")
    cover = source.get("photo_cover_index", 0)
    if not isinstance(cover, int) or not 0 <= cover < len(images):
        raise ApiFailure(400, "invalid_params", "photo_cover_index out of range")
    if not all(isinstance(u, str) and url_verified(world, u) for u in images):
        raise ApiFailure(403, "url_ownership_unverified", "the URL's domain is not verified")
    kind = "photo" if mode == "DIRECT_POST" else "inbox"
    publish = world.new_publish(user.open_id, kind, "PULL_FROM_URL", privacy, title, photo=True)
    publish.photo_urls = list(images)
    start_pull(world, publish, list(images), photos=True)
    return envelope({"publish_id": publish.publish_id})


def _own_publish(world: World, request: Request, body: dict[str, Any], *scopes: str) -> Publish:
    token = bearer(world, request, *scopes)
    publish = world.publishes.get(str(body.get("publish_id", "")))
    if publish is None:
        raise ApiFailure(400, "invalid_publish_id", "publish_id does not exist")
    assert token.grant is not None
    if publish.open_id != token.grant.open_id:
        raise ApiFailure(
            400, "token_not_authorized_for_specified_publish_id", "not this user's publish"
        )
    return publish


async def status_fetch(request: Request) -> Response:
    world = world_of(request)
    await apply_fault(world, "status_fetch")
    token = bearer(world, request, "video.upload", "video.publish")
    rate_limit(world, "status_fetch", token.token)
    publish = _own_publish(
        world, request, await json_body(request), "video.upload", "video.publish"
    )
    world.advance()
    ids: list[Any] = list(publish.post_ids)
    if world.config.post_id_mode == "strings":
        ids = [str(i) for i in ids]
    data: dict[str, Any] = {"status": publish.status, "publicaly_available_post_id": ids}
    if publish.fail_reason:
        data["fail_reason"] = publish.fail_reason
    if publish.source == "FILE_UPLOAD":
        data["uploaded_bytes"] = publish.uploaded_bytes
    else:
        data["downloaded_bytes"] = publish.downloaded_bytes
    return envelope(data)


async def cancel(request: Request) -> Response:
    world = world_of(request)
    await apply_fault(world, "cancel")
    publish = _own_publish(
        world, request, await json_body(request), "video.upload", "video.publish"
    )
    if publish.status != "PROCESSING_DOWNLOAD" or publish.ready_at is not None:
        raise ApiFailure(400, "publish_not_cancellable", "only a download in progress")
    world.fail(publish, "publish_cancelled")
    return envelope({})
