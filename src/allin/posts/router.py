"""HTTP routes of posts, media, calendar, notifications and the queue's admin view: thin calls
into `PostsService`; every object is loaded for its owner or answers 404."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from sqlalchemy import select

from allin.auth.deps import AdminUser, CurrentUser
from allin.auth.email import public_url
from allin.core.clock import clock
from allin.core.deps import DbSession, SettingsDep
from allin.core.domain import provided
from allin.core.errors import NotFoundError, ValidationError
from allin.core.schemas import Envelope, ok
from allin.posts import csvio, ical, ops
from allin.posts.errors import MediaInUseError, MediaNotFoundError, PostNotFoundError
from allin.posts.media import media_links
from allin.posts.models import (
    MediaAsset,
    Notification,
    Post,
    PostingPreferences,
    PostingSlot,
    PostTarget,
    TargetStatus,
)
from allin.posts.scheduling import to_local, zone
from allin.posts.schemas import (
    CalendarEntry,
    CleanIn,
    CleanOut,
    FeedOut,
    FeedStateOut,
    ImportOut,
    MediaOut,
    NotificationOut,
    PostIn,
    PostOut,
    PostUpdate,
    QueueStatusOut,
    ReadAllOut,
    ScheduleIn,
    SlotIn,
    SlotsIn,
    SlotsOut,
    UnreadOut,
    ValidateIn,
    VerdictOut,
)
from allin.posts.service import PostsService

router = APIRouter(tags=["posts"])
admin_router = APIRouter(prefix="/api/admin", tags=["admin"])
ServiceDep = Annotated[PostsService, provided(PostsService)]
_MAX_CALENDAR_DAYS = 400


def _body(*types: str, description: str) -> dict[int | str, dict[str, object]]:
    """Documents a 200 that is not JSON."""
    content = {t: {"schema": {"type": "string", "format": "binary"}} for t in types}
    return {200: {"content": content, "description": description}}


_MEDIA_TYPES = (
    "image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "video/quicktime",
    "video/webm",
)  # fmt: skip


# --- posts ---


@router.post("/api/posts/validate", summary="Check content against each target's platform rules")
async def validate_post(
    body: ValidateIn, user: CurrentUser, db: DbSession, service: ServiceDep
) -> Envelope[list[VerdictOut]]:
    return ok(await service.validate(db, user.id, body))


@router.post("/api/posts", status_code=201, summary="Compose a post (draft, now, at, or queue)")
async def create_post(
    body: PostIn, user: CurrentUser, db: DbSession, service: ServiceDep
) -> Envelope[PostOut]:
    post = await service.create(db, user.id, body)
    return ok(await service.out(db, post))


MAX_OFFSET = 2**31 - 1  # what every database takes as an OFFSET (SQLite: 64-bit signed)


@router.get("/api/posts", summary="The caller's posts, newest first")
async def list_posts(
    user: CurrentUser,
    db: DbSession,
    service: ServiceDep,
    status: TargetStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Envelope[list[PostOut]]:
    posts = await service.list(db, user.id, status, limit, offset)
    return ok([await service.out(db, post) for post in posts])


@router.get(
    "/api/posts/export.csv",
    summary="Every post of the caller as CSV",
    response_class=Response,
    responses=_body("text/csv", description="One row per post"),
)
async def export_posts(user: CurrentUser, db: DbSession, service: ServiceDep) -> Response:
    posts = await service.list(db, user.id, None, 100_000, 0)
    rows = [(post, await service.targets(db, post.id)) for post in posts]
    return Response(
        csvio.export(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="posts.csv"'},
    )


@router.post("/api/posts/import", status_code=201, summary="Create posts from CSV rows")
async def import_posts(
    request: Request, user: CurrentUser, db: DbSession, service: ServiceDep
) -> Envelope[ImportOut]:
    try:
        text = (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError("The CSV file must be UTF-8") from None
    created = [await service.create(db, user.id, body) for body in csvio.parse(text)]
    return ok(ImportOut(created=len(created), post_ids=[post.id for post in created]))


@router.get("/api/posts/{post_id:uuid}", summary="One post with each target's status")
async def get_post(
    post_id: uuid.UUID, user: CurrentUser, db: DbSession, service: ServiceDep
) -> Envelope[PostOut]:
    return ok(await service.out(db, await service.get(db, user.id, post_id)))


@router.patch("/api/posts/{post_id:uuid}", summary="Edit a post not yet sent")
async def update_post(
    post_id: uuid.UUID, body: PostUpdate, user: CurrentUser, db: DbSession, service: ServiceDep
) -> Envelope[PostOut]:
    post = await service.update(db, user.id, post_id, body)
    return ok(await service.out(db, post))


@router.delete("/api/posts/{post_id:uuid}", status_code=204, summary="Delete a post not being sent")
async def delete_post(
    post_id: uuid.UUID, user: CurrentUser, db: DbSession, service: ServiceDep
) -> Response:
    await service.delete(db, user.id, post_id)
    return Response(status_code=204)


@router.post(
    "/api/posts/{post_id:uuid}/schedule", summary="Publish now, at a time, or in the queue"
)
async def schedule_post(
    post_id: uuid.UUID, body: ScheduleIn, user: CurrentUser, db: DbSession, service: ServiceDep
) -> Envelope[PostOut]:
    post = await service.schedule(db, user.id, post_id, body)
    return ok(await service.out(db, post))


@router.post("/api/posts/{post_id:uuid}/cancel", summary="Cancel every target not yet sent")
async def cancel_post(
    post_id: uuid.UUID, user: CurrentUser, db: DbSession, service: ServiceDep
) -> Envelope[PostOut]:
    post = await service.cancel(db, user.id, post_id)
    return ok(await service.out(db, post))


@router.post("/api/posts/{post_id:uuid}/retry", summary="Send the failed targets again now")
async def retry_post(
    post_id: uuid.UUID, user: CurrentUser, db: DbSession, service: ServiceDep
) -> Envelope[PostOut]:
    post = await service.retry(db, user.id, post_id)
    return ok(await service.out(db, post))


# --- posting slots ---


@router.get("/api/posts/slots/{account_id:uuid}", summary="An account's weekly posting slots")
async def get_slots(
    account_id: uuid.UUID, user: CurrentUser, db: DbSession, service: ServiceDep
) -> Envelope[SlotsOut]:
    await service.owned_accounts(user.id, [account_id])
    rows = list(
        await db.scalars(
            select(PostingSlot)
            .where(PostingSlot.account_id == account_id)
            .order_by(PostingSlot.weekday, PostingSlot.minute_of_day)
        )
    )
    slots = [
        SlotIn(weekday=r.weekday, time=f"{r.minute_of_day // 60:02d}:{r.minute_of_day % 60:02d}")
        for r in rows
    ]
    return ok(
        SlotsOut(account_id=account_id, timezone=rows[0].timezone if rows else None, slots=slots)
    )


@router.put(
    "/api/posts/slots/{account_id:uuid}", summary="Replace an account's weekly posting slots"
)
async def put_slots(
    account_id: uuid.UUID, body: SlotsIn, user: CurrentUser, db: DbSession, service: ServiceDep
) -> Envelope[SlotsOut]:
    pairs = [(s.weekday, int(s.time[:2]) * 60 + int(s.time[3:])) for s in body.slots]
    await service.set_slots(db, user.id, account_id, body.timezone, pairs)
    return ok(SlotsOut(account_id=account_id, timezone=body.timezone, slots=body.slots))


# --- calendar ---


@router.get("/api/calendar", summary="Scheduled and published targets between two instants")
async def calendar(
    user: CurrentUser,
    db: DbSession,
    start: Annotated[datetime, Query(alias="from")],
    end: Annotated[datetime, Query(alias="to")],
    tz: Annotated[str, Query(max_length=64)] = "UTC",
) -> Envelope[list[CalendarEntry]]:
    zone(tz)
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationError("from and to need a UTC offset (e.g. 2026-12-01T00:00:00Z)")
    if end <= start or end - start > timedelta(days=_MAX_CALENDAR_DAYS):
        raise ValidationError(f"to must be after from, at most {_MAX_CALENDAR_DAYS} days later")
    rows = await db.execute(
        select(PostTarget, Post)
        .join(Post, Post.id == PostTarget.post_id)
        .where(
            PostTarget.owner_id == user.id,
            PostTarget.scheduled_at >= start,
            PostTarget.scheduled_at < end,
        )
        .order_by(PostTarget.scheduled_at)
    )
    entries = [
        CalendarEntry(
            target_id=target.id,
            post_id=post.id,
            account_id=target.account_id,
            platform=target.platform,
            status=target.status,
            scheduled_at=target.scheduled_at,
            local_time=to_local(target.scheduled_at, tz),
            preview=post.content[:140],
        )
        for target, post in rows
        if target.scheduled_at is not None
    ]
    return ok(entries)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@router.post("/api/calendar/feed", summary="A new secret iCalendar feed URL (the old one stops)")
async def new_feed(user: CurrentUser, db: DbSession, settings: SettingsDep) -> Envelope[FeedOut]:
    token = secrets.token_urlsafe(32)
    prefs = await db.get(PostingPreferences, user.id)
    if prefs is None:
        prefs = PostingPreferences(user_id=user.id, email_on_failure=True)
        db.add(prefs)
    prefs.calendar_token_hash = _token_hash(token)
    return ok(FeedOut(url=f"{public_url(settings)}/api/calendar/feed/{token}.ics"))


@router.get("/api/calendar/feed", summary="Whether a secret iCalendar feed URL exists")
async def feed_state(
    user: CurrentUser, db: DbSession, service: ServiceDep
) -> Envelope[FeedStateOut]:
    return ok(FeedStateOut(active=await service.calendar_feed_active(db, user.id)))


@router.get(
    "/api/calendar/feed/{token}.ics",
    summary="The iCalendar feed (public: the secret URL is the credential)",
    response_class=Response,
    responses=_body("text/calendar", description="RFC 5545 calendar"),
)
async def feed(token: str, db: DbSession, settings: SettingsDep) -> Response:
    prefs = await db.scalar(
        select(PostingPreferences).where(
            PostingPreferences.calendar_token_hash == _token_hash(token)
        )
    )
    if prefs is None:
        raise NotFoundError("Unknown calendar feed")
    since = clock.now() - timedelta(days=90)
    rows = await db.execute(
        select(PostTarget, Post)
        .join(Post, Post.id == PostTarget.post_id)
        .where(PostTarget.owner_id == prefs.user_id, PostTarget.scheduled_at >= since)
        .order_by(PostTarget.scheduled_at)
    )
    body = ical.calendar(((t, p) for t, p in rows), clock.now(), public_url(settings))
    return Response(body, media_type="text/calendar; charset=utf-8")


# --- notifications ---


@router.get("/api/notifications", summary="The caller's notifications, newest first")
async def notifications(
    user: CurrentUser,
    db: DbSession,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Envelope[list[NotificationOut]]:
    query = select(Notification).where(Notification.user_id == user.id)
    if unread:
        query = query.where(Notification.read_at.is_(None))
    rows = await db.scalars(query.order_by(Notification.created_at.desc()).limit(limit))
    return ok([NotificationOut.model_validate(row) for row in rows])


@router.get("/api/notifications/unread-count", summary="How many notifications are unread")
async def unread_count(
    user: CurrentUser, db: DbSession, service: ServiceDep
) -> Envelope[UnreadOut]:
    return ok(UnreadOut(unread=await service.unread_count(db, user.id)))


@router.post("/api/notifications/read-all", summary="Mark every notification read")
async def read_all_notifications(
    user: CurrentUser, db: DbSession, service: ServiceDep
) -> Envelope[ReadAllOut]:
    return ok(ReadAllOut(marked=await service.read_all(db, user.id)))


@router.post("/api/notifications/{notification_id:uuid}/read", summary="Mark a notification read")
async def read_notification(
    notification_id: uuid.UUID, user: CurrentUser, db: DbSession
) -> Envelope[NotificationOut]:
    row = await db.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user.id
        )
    )
    if row is None:
        raise NotFoundError("Notification not found")
    row.read_at = row.read_at or clock.now()
    return ok(NotificationOut.model_validate(row))


# --- media ---


def _media_out(asset: MediaAsset) -> MediaOut:
    out = MediaOut.model_validate(asset)
    out.has_thumbnail = asset.thumbnail_path is not None
    return out


async def _owned_media(db: DbSession, user_id: uuid.UUID, media_id: uuid.UUID) -> MediaAsset:
    asset = await db.scalar(
        select(MediaAsset).where(MediaAsset.id == media_id, MediaAsset.owner_id == user_id)
    )
    if asset is None:
        raise MediaNotFoundError()
    return asset


@router.post(
    "/api/media",
    status_code=201,
    summary="Upload a file (the raw bytes as the body; the type is read from the bytes)",
)
async def upload_media(
    request: Request,
    user: CurrentUser,
    db: DbSession,
    service: ServiceDep,
    filename: Annotated[str, Query(min_length=1, max_length=255)] = "upload",
) -> Envelope[MediaOut]:
    stored = await service.media.save(user.id, request.stream())
    probe = await service.media.probe(stored.relative_path)
    thumbnail = await service.media.thumbnail(stored.relative_path, stored.kind)
    asset = MediaAsset(
        owner_id=user.id,
        filename=filename,
        storage_path=stored.relative_path,
        mime_type=stored.mime_type,
        kind=stored.kind.value,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        width=probe.width,
        height=probe.height,
        duration_seconds=probe.duration_seconds,
        frame_rate=probe.frame_rate,
        thumbnail_path=thumbnail,
    )
    db.add(asset)
    await db.flush()
    return ok(_media_out(asset))


@router.get("/api/media", summary="The caller's media library, newest first")
async def list_media(
    user: CurrentUser, db: DbSession, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> Envelope[list[MediaOut]]:
    rows = await db.scalars(
        select(MediaAsset)
        .where(MediaAsset.owner_id == user.id)
        .order_by(MediaAsset.created_at.desc())
        .limit(limit)
    )
    return ok([_media_out(row) for row in rows])


@router.get(
    "/api/media/{media_id:uuid}/file",
    summary="The file itself",
    response_class=FileResponse,
    responses=_body(*_MEDIA_TYPES, description="The uploaded bytes"),
)
async def media_file(
    media_id: uuid.UUID, user: CurrentUser, db: DbSession, service: ServiceDep
) -> FileResponse:
    asset = await _owned_media(db, user.id, media_id)
    return FileResponse(service.media.path_of(asset.storage_path), media_type=asset.mime_type)


@router.get(
    "/api/media/public/{media_id:uuid}/{expires:int}/{signature}",
    summary="The file through a signed, expiring link (public: platforms fetch media with it)",
    response_class=FileResponse,
    responses=_body(*_MEDIA_TYPES, description="The uploaded bytes"),
)
async def public_media_file(
    media_id: uuid.UUID,
    expires: int,
    signature: str,
    db: DbSession,
    settings: SettingsDep,
    service: ServiceDep,
) -> FileResponse:
    links = media_links(settings)
    asset = await db.get(MediaAsset, media_id)
    if asset is None or not links.valid(media_id, expires, signature, clock.now().timestamp()):
        raise MediaNotFoundError()
    return FileResponse(service.media.path_of(asset.storage_path), media_type=asset.mime_type)


@router.get(
    "/api/media/{media_id:uuid}/thumbnail",
    summary="A small JPEG preview",
    response_class=FileResponse,
    responses=_body("image/jpeg", description="320 pixels wide"),
)
async def media_thumbnail(
    media_id: uuid.UUID, user: CurrentUser, db: DbSession, service: ServiceDep
) -> FileResponse:
    asset = await _owned_media(db, user.id, media_id)
    if asset.thumbnail_path is None:
        raise MediaNotFoundError("No thumbnail for this media")
    return FileResponse(service.media.path_of(asset.thumbnail_path), media_type="image/jpeg")


@router.delete("/api/media/{media_id:uuid}", status_code=204, summary="Delete media no post uses")
async def delete_media(
    media_id: uuid.UUID, user: CurrentUser, db: DbSession, service: ServiceDep
) -> Response:
    asset = await _owned_media(db, user.id, media_id)
    posts = await db.scalars(select(Post.media_ids).where(Post.owner_id == user.id))
    if any(str(asset.id) in (ids or []) for ids in posts):
        raise MediaInUseError()
    await db.delete(asset)
    await db.flush()
    await service.media.delete(asset)
    return Response(status_code=204)


# --- operators ---


@admin_router.get("/queue/status", summary="The publishing queue: counts, lag, workers")
async def queue_status(
    _: AdminUser, db: DbSession, settings: SettingsDep
) -> Envelope[QueueStatusOut]:
    return ok(await ops.queue_status(db, settings))


@admin_router.post("/posts/{post_id:uuid}/publish-now", summary="Put a post's targets due now")
async def admin_publish_now(
    post_id: uuid.UUID, _: AdminUser, db: DbSession, service: ServiceDep
) -> Envelope[PostOut]:
    post = await db.get(Post, post_id)
    if post is None:
        raise PostNotFoundError()
    await service.publish_now(db, post)
    return ok(await service.out(db, post))


@admin_router.post("/queue/clean", summary="Reconcile stuck sends; close old failed rows")
async def queue_clean(body: CleanIn, _: AdminUser, db: DbSession) -> Envelope[CleanOut]:
    return ok(await ops.clean(db, timedelta(hours=body.older_than_hours), list(body.statuses)))


@router.get("/api/posts/preferences/email", summary="Whether a failed post is mailed")
async def get_email_preference(
    user: CurrentUser, db: DbSession, service: ServiceDep
) -> Envelope[bool]:
    return ok(await service.email_on_failure(db, user.id))


@router.put("/api/posts/preferences/email", summary="Mail me when a post fails (on or off)")
async def email_preference(
    user: CurrentUser, db: DbSession, service: ServiceDep, enabled: Annotated[bool, Query()]
) -> Envelope[bool]:
    return ok(await service.set_email_on_failure(db, user.id, enabled))
