"""Database tables of the TikTok integration (migrations 0003_tiktok, 0007_social).

Connected accounts are rows of the social accounts table (`allin.social.models.SocialAccount`,
platform `tiktok`), their tokens encrypted and bound to the row.
OAuth states are stored as SHA-256 digests; the state itself only travels in the URL.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from allin.core.clock import utcnow
from allin.db.base import Base


class TikTokOAuthState(Base):
    """A one-time OAuth state bound to the user who started the flow."""

    __tablename__ = "tiktok_oauth_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    # SHA-256 of the nonce in the starting browser's cookie (`core.oauth_binding`).
    binding_digest: Mapped[str | None] = mapped_column(String(64), default=None)


class TikTokPublish(Base):
    """The publish journal: one row per attempt, written before and after every step."""

    __tablename__ = "tiktok_publishes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("social_accounts.id", ondelete="CASCADE"), index=True
    )
    mode: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    privacy_level: Mapped[str | None] = mapped_column(String(32), default=None)
    publish_id: Mapped[str | None] = mapped_column(String(128), unique=True, default=None)
    upload_url: Mapped[str | None] = mapped_column(Text(), default=None)
    upload_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    file_path: Mapped[str | None] = mapped_column(Text(), default=None)
    video_size: Mapped[int | None] = mapped_column(BigInteger(), default=None)
    chunk_size: Mapped[int | None] = mapped_column(BigInteger(), default=None)
    total_chunk_count: Mapped[int | None] = mapped_column(Integer(), default=None)
    uploaded_bytes: Mapped[int] = mapped_column(BigInteger(), default=0)
    tiktok_status: Mapped[str | None] = mapped_column(String(32), default=None)
    fail_reason: Mapped[str | None] = mapped_column(String(128), default=None)
    post_ids: Mapped[list[str]] = mapped_column(JSON(), default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TikTokWebhookEvent(Base):
    """Webhook events already handled; the unique key makes TikTok's re-deliveries no-ops."""

    __tablename__ = "tiktok_webhook_events"

    idempotency_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    event: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class TikTokAnalyticsSnapshot(Base):
    """One account's totals per UTC day (the day's latest reading): TikTok keeps no history."""

    __tablename__ = "tiktok_analytics_snapshots"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("social_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date(), primary_key=True)
    taken_at: Mapped[datetime]
    followers: Mapped[int | None] = mapped_column(BigInteger(), default=None)
    following: Mapped[int | None] = mapped_column(BigInteger(), default=None)
    total_likes: Mapped[int | None] = mapped_column(BigInteger(), default=None)
    video_count: Mapped[int | None] = mapped_column(Integer(), default=None)
    views: Mapped[int] = mapped_column(BigInteger())
    likes: Mapped[int] = mapped_column(BigInteger())
    comments: Mapped[int] = mapped_column(BigInteger())
    shares: Mapped[int] = mapped_column(BigInteger())
    engagement_rate: Mapped[float] = mapped_column(Float())
    videos: Mapped[list[dict[str, Any]]] = mapped_column(JSON(), default=list)
