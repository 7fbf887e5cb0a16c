"""Posts, their per-account targets (the publishing queue's rows), the media library,
weekly posting slots, notifications, posting preferences and the queue's worker heartbeats.

A rate window is a platform's "limited until": one account, or the app on a platform, sends
nothing before it ends; it lives here so that every publishing process sees it.

A target row is the truth about one post on one account: the dispatcher claims it with a
lease, marks it PUBLISHING (with `sent_at`) before the one irreversible platform call, and
records the outcome; nothing else decides whether a post went out.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from allin.core.clock import utcnow
from allin.db.base import Base, TimestampMixin
from allin.social.providers.base import LimitScope


class TargetStatus(StrEnum):
    DRAFT = "DRAFT"
    SCHEDULED = "SCHEDULED"
    PUBLISHING = "PUBLISHING"  # the platform call was (or is being) sent
    PUBLISHED = "PUBLISHED"
    FAILED = "FAILED"
    UNCONFIRMED = "UNCONFIRMED"  # outcome unknown: the reconciler asks the platform
    CANCELLED = "CANCELLED"


FINAL_STATUSES = frozenset({TargetStatus.PUBLISHED, TargetStatus.CANCELLED})


def _in(column: str, enum: type[StrEnum]) -> CheckConstraint:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=column)


class Post(TimestampMixin, Base):
    """What the user wrote: one text, optional per-platform variants, media, and a zone."""

    __tablename__ = "posts"
    __table_args__ = (Index("ix_posts_owner_created", "owner_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    content: Mapped[str] = mapped_column(Text(), default="")
    # {"x": {"text": ..., "first_comment": ..., "options": {...}}, ...}
    variants: Mapped[dict[str, Any]] = mapped_column(JSON(), default=dict)
    media_ids: Mapped[list[str]] = mapped_column(JSON(), default=list)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")  # IANA name


class PostTarget(TimestampMixin, Base):
    """One post on one connected account: its own status, schedule, attempts and outcome."""

    __tablename__ = "post_targets"
    __table_args__ = (
        _in("status", TargetStatus),
        UniqueConstraint("post_id", "account_id"),
        UniqueConstraint("idempotency_key"),
        Index("ix_post_targets_due", "status", "next_attempt_at"),
        Index("ix_post_targets_owner_scheduled", "owner_id", "scheduled_at"),
        Index("ix_post_targets_account", "account_id", "scheduled_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(Uuid())  # a connected social account
    platform: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=TargetStatus.DRAFT)
    scheduled_at: Mapped[datetime | None] = mapped_column(default=None)  # UTC
    # When the queue next looks at the row (first try, a retry, a reconciliation).
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer(), default=0)
    # Questions to the platform about the last send that got no definite answer.
    checks: Mapped[int] = mapped_column(Integer(), default=0, server_default="0")
    lease_owner: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    idempotency_key: Mapped[str] = mapped_column(String(64), default=lambda: uuid.uuid4().hex)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    tracking_id: Mapped[str | None] = mapped_column(String(128), default=None)
    platform_post_id: Mapped[str | None] = mapped_column(String(128), default=None)
    platform_url: Mapped[str | None] = mapped_column(Text(), default=None)
    last_error_code: Mapped[str | None] = mapped_column(String(32), default=None)
    last_error: Mapped[str | None] = mapped_column(Text(), default=None)  # the platform's words
    notified_at: Mapped[datetime | None] = mapped_column(default=None)


class MediaAsset(TimestampMixin, Base):
    """A file in the user's media library, stored under the data dir, probed once."""

    __tablename__ = "media_assets"
    __table_args__ = (Index("ix_media_assets_owner_created", "owner_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))  # as uploaded, for display only
    storage_path: Mapped[str] = mapped_column(Text())  # relative to the media dir
    mime_type: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))  # image / video / gif
    size_bytes: Mapped[int] = mapped_column(BigInteger())
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer(), default=None)
    height: Mapped[int | None] = mapped_column(Integer(), default=None)
    duration_seconds: Mapped[float | None] = mapped_column(Float(), default=None)
    frame_rate: Mapped[float | None] = mapped_column(Float(), default=None)
    thumbnail_path: Mapped[str | None] = mapped_column(Text(), default=None)


class PostingSlot(Base):
    """A weekly time at which "add to queue" may place a post on an account."""

    __tablename__ = "posting_slots"
    __table_args__ = (
        UniqueConstraint("account_id", "weekday", "minute_of_day"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("minute_of_day BETWEEN 0 AND 1439", name="minute_of_day"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger())  # Monday = 0
    minute_of_day: Mapped[int] = mapped_column(SmallInteger())  # local wall time
    timezone: Mapped[str] = mapped_column(String(64))


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_created", "user_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text())
    post_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), default=None)
    target_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(default=None)


class PostingPreferences(Base):
    """Per-user publishing preferences and the secret of the user's iCalendar feed."""

    __tablename__ = "posting_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    email_on_failure: Mapped[bool] = mapped_column(Boolean(), default=True)
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)


class QueueWorker(Base):
    """A live dispatcher or worker process and its last heartbeat."""

    __tablename__ = "queue_workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # embedded / worker
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer())
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    published: Mapped[int] = mapped_column(BigInteger(), default=0)


class RateWindow(TimestampMixin, Base):
    """A platform said "limited until `until`" for one account (`key` is the account id) or
    for our whole app on the platform (`key` is `app`)."""

    __tablename__ = "rate_windows"
    __table_args__ = (
        _in("scope", LimitScope),
        UniqueConstraint("scope", "platform", "key"),
        Index("ix_rate_windows_until", "until"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    scope: Mapped[str] = mapped_column(String(8))
    platform: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text(), default=None)  # the platform's words
