"""Request and response bodies of the posts API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, computed_field

from allin.social.providers.base import Platform

MAX_TEXT = 63_206  # Facebook's, the longest any platform takes
# A post body at its largest (content and every variant at MAX_TEXT, JSON-escaped).
MAX_POST_BODY = 8 * 1024 * 1024


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, max_length=MAX_TEXT)
    first_comment: str | None = Field(default=None, max_length=MAX_TEXT)
    options: dict[str, Any] = Field(default_factory=dict)


class ScheduleIn(BaseModel):
    """`now`: publish at once; `at`: at `local_time` in `timezone` (a naive wall time, or an
    instant with an offset); `queue`: the account's next free weekly slot; `draft`: not yet."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["draft", "now", "at", "queue"] = "draft"
    local_time: datetime | None = None
    timezone: str | None = Field(default=None, max_length=64)
    fold: Annotated[int, Strict()] | None = Field(default=None, ge=0, le=1)


class PostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str = Field(default="", max_length=MAX_TEXT)
    variants: dict[Platform, Variant] = Field(default_factory=dict)
    media_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    account_ids: list[uuid.UUID] = Field(min_length=1, max_length=50)
    timezone: str = Field(default="UTC", max_length=64)
    schedule: ScheduleIn = Field(default_factory=ScheduleIn)


class PostUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str | None = Field(default=None, max_length=MAX_TEXT)
    variants: dict[Platform, Variant] | None = None
    media_ids: list[uuid.UUID] | None = Field(default=None, max_length=20)
    timezone: str | None = Field(default=None, max_length=64)


class ValidateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str = Field(default="", max_length=MAX_TEXT)
    variants: dict[Platform, Variant] = Field(default_factory=dict)
    media_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    account_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    platforms: list[Platform] = Field(default_factory=list)


class ProblemOut(BaseModel):
    code: str
    message: str
    media_index: int | None = None


class VerdictOut(BaseModel):
    account_id: uuid.UUID | None
    platform: Platform
    length: int
    limit: int
    ok: bool
    problems: list[ProblemOut]


class TargetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    account_id: uuid.UUID
    platform: str
    status: str
    scheduled_at: datetime | None
    scheduled_local: datetime | None = None
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    published_at: datetime | None
    platform_post_id: str | None
    platform_url: str | None
    last_error_code: str | None
    last_error: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def rate_limited_until(self) -> datetime | None:
        """When the platform's rate limit on this account (or app) ends and the target is
        sent; None unless it is waiting for one."""
        if self.status == "SCHEDULED" and self.last_error_code == "SOCIAL_003":
            return self.next_attempt_at
        return None


class PostOut(BaseModel):
    id: uuid.UUID
    content: str
    variants: dict[str, Any]
    media_ids: list[str]
    timezone: str
    created_at: datetime
    updated_at: datetime
    targets: list[TargetOut]


class CalendarEntry(BaseModel):
    target_id: uuid.UUID
    post_id: uuid.UUID
    account_id: uuid.UUID
    platform: str
    status: str
    scheduled_at: datetime
    local_time: datetime
    preview: str


class FeedOut(BaseModel):
    url: str


class FeedStateOut(BaseModel):
    active: bool = Field(description="A secret feed URL exists (only its hash is kept)")


class UnreadOut(BaseModel):
    unread: int


class ReadAllOut(BaseModel):
    marked: int = Field(description="How many notifications were unread until now")


class SlotIn(BaseModel):
    weekday: Annotated[int, Strict()] = Field(ge=0, le=6, description="Monday = 0")
    time: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM local")


class SlotsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str = Field(max_length=64)
    slots: list[SlotIn] = Field(max_length=200)


class SlotsOut(BaseModel):
    account_id: uuid.UUID
    timezone: str | None
    slots: list[SlotIn]


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    message: str
    post_id: uuid.UUID | None
    target_id: uuid.UUID | None
    created_at: datetime
    read_at: datetime | None


class MediaOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    filename: str
    mime_type: str
    kind: str
    size_bytes: int
    width: int | None
    height: int | None
    duration_seconds: float | None
    frame_rate: float | None
    has_thumbnail: bool = False
    created_at: datetime


class WorkerOut(BaseModel):
    id: str
    kind: str
    hostname: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    alive: bool
    published: int


class RateWindowOut(BaseModel):
    """A platform's rate limit in force: nothing is sent for `key` (an account id, or `app`
    for every account of the app on that platform) before `until`."""

    model_config = ConfigDict(from_attributes=True)

    scope: Literal["account", "app"]
    platform: str
    key: str
    until: datetime
    reason: str | None


class QueueStatusOut(BaseModel):
    counts: dict[str, int]
    due: int
    oldest_due_at: datetime | None
    lag_seconds: float
    published_last_hour: int
    failed_last_hour: int
    workers: list[WorkerOut]
    mode: str
    rate_windows: list[RateWindowOut] = Field(default_factory=list)


CleanStatus = Literal["FAILED", "UNCONFIRMED", "PUBLISHING"]
_CLEAN_DEFAULT: tuple[CleanStatus, ...] = ("FAILED",)


class CleanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    older_than_hours: Annotated[float, Strict()] = Field(default=24.0, ge=0, le=87_600)
    statuses: list[CleanStatus] = Field(default_factory=lambda: list(_CLEAN_DEFAULT))


class CleanOut(BaseModel):
    cancelled: int
    swept: int


class ImportOut(BaseModel):
    created: int
    post_ids: list[uuid.UUID]
