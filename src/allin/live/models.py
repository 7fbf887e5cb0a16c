"""LIVE capture tables: streamer profiles, capture sessions, their events, the watchlist."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from allin.core.clock import utcnow
from allin.db.base import Base, TimestampMixin

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
EventId = BigInteger().with_variant(Integer(), "sqlite")
# Both are signed 64-bit integers; ids start at 1.
EVENT_ID_MAX = 2**63 - 1


class SessionStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"
    INTERRUPTED = "interrupted"


class Streamer(TimestampMixin, Base):
    """A TikTok creator's public profile, refreshed whenever a capture starts."""

    __tablename__ = "streamers"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(String(32))
    display_name: Mapped[str | None] = mapped_column(String(128))
    follower_count: Mapped[int | None] = mapped_column(BigInteger())
    bio: Mapped[str | None] = mapped_column(Text())
    avatar_url: Mapped[str | None] = mapped_column(Text())
    total_sessions: Mapped[int] = mapped_column(Integer(), default=0)
    last_live_at: Mapped[datetime | None] = mapped_column()


class LiveSession(TimestampMixin, Base):
    """One capture of one streamer's LIVE, owned by the user who started it."""

    __tablename__ = "live_sessions"
    __table_args__ = (
        Index("ix_live_sessions_owner_started", "owner_id", "started_at"),
        Index("ix_live_sessions_owner_streamer", "owner_id", "streamer_username"),
        Index("ix_live_sessions_status_heartbeat", "status", "heartbeat_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("users.id", ondelete="CASCADE"))
    streamer_username: Mapped[str] = mapped_column(
        String(64), ForeignKey("streamers.username", ondelete="CASCADE")
    )
    room_id: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default=SessionStatus.ACTIVE.value)
    end_reason: Mapped[str | None] = mapped_column(String(64))
    streamer_info: Mapped[dict[str, Any]] = mapped_column(JSON(), default=dict)
    # Per-type event counts, kept by the writer in the same transaction as the events.
    counters: Mapped[dict[str, int]] = mapped_column(JSON(), default=dict)
    total_events: Mapped[int] = mapped_column(BigInteger(), default=0)
    total_likes: Mapped[int] = mapped_column(BigInteger(), default=0)
    total_diamonds: Mapped[int] = mapped_column(BigInteger(), default=0)
    peak_viewers: Mapped[int] = mapped_column(Integer(), default=0)
    current_viewers: Mapped[int] = mapped_column(Integer(), default=0)
    # Which process captures it and when it last said so: a crashed node's sessions go stale.
    capture_node: Mapped[str | None] = mapped_column(String(64))
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    resume_count: Mapped[int] = mapped_column(Integer(), default=0)


class LiveEventRow(Base):
    """One stored event; its integer id is the SSE event id (monotonic within a session).

    Indexes serve the frequent queries (session scans by id, type filters, user filters) and
    nothing else: with a thousand streams every index costs an extra page write per event.
    Handles are resolved to user ids (no @handle index); time ranges and text search scan
    the session through its (session_id, id) index."""

    __tablename__ = "live_events"
    __table_args__ = (
        Index("ix_live_events_session_id_id", "session_id", "id"),
        Index("ix_live_events_session_type_id", "session_id", "type", "id"),
        Index("ix_live_events_session_user_id", "session_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    session_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("live_sessions.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(String(32))
    msg_id: Mapped[int | None] = mapped_column(BigInteger())
    user_id: Mapped[str | None] = mapped_column(String(32))
    unique_id: Mapped[str | None] = mapped_column(String(64))
    nickname: Mapped[str | None] = mapped_column(String(128))
    message: Mapped[str | None] = mapped_column(Text())
    gift_id: Mapped[int | None] = mapped_column(BigInteger())
    gift_name: Mapped[str | None] = mapped_column(String(128))
    # Diamonds and gift items this event *adds* (streak deltas), so sums count each streak once.
    diamonds: Mapped[int] = mapped_column(Integer(), default=0)
    gift_count: Mapped[int] = mapped_column(Integer(), default=0)
    repeat_count: Mapped[int | None] = mapped_column(Integer())
    like_count: Mapped[int] = mapped_column(Integer(), default=0)
    viewer_count: Mapped[int | None] = mapped_column(Integer())
    created_at: Mapped[datetime] = mapped_column()
    raw: Mapped[bytes | None] = mapped_column(LargeBinary())
    data: Mapped[dict[str, Any]] = mapped_column(JSON(), default=dict)


class WatchlistEntry(TimestampMixin, Base):
    """A streamer a user wants captured automatically whenever they go live."""

    __tablename__ = "live_watchlist"
    __table_args__ = (UniqueConstraint("owner_id", "username"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    username: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean(), default=True)
    is_live: Mapped[bool] = mapped_column(Boolean(), default=False)
    last_checked_at: Mapped[datetime | None] = mapped_column()
    last_session_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
