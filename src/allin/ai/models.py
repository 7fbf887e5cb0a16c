"""AI tables: per-user preferences, the monthly credit ledger, one usage row per request, and
drafts saved from AI results (a post draft until the publishing domain adopts them)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from allin.core.clock import utcnow
from allin.db.base import Base, TimestampMixin


class AiAccount(TimestampMixin, Base):
    __tablename__ = "ai_accounts"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    time_zone: Mapped[str] = mapped_column(String(64))


class AiCreditPeriod(Base):
    """One user's month. A request reserves before it calls a provider and settles (or is
    refunded) after; the reserve is one conditional UPDATE, so concurrent requests at the
    limit can never overspend."""

    __tablename__ = "ai_credit_periods"
    __table_args__ = (UniqueConstraint("user_id", "period_start"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("users.id", ondelete="CASCADE"))
    period_start: Mapped[datetime] = mapped_column()
    period_end: Mapped[datetime] = mapped_column()
    reserved: Mapped[int] = mapped_column(Integer(), default=0)
    used: Mapped[int] = mapped_column(Integer(), default=0)
    alerted_at: Mapped[datetime | None] = mapped_column(default=None)


class AiUsage(Base):
    __tablename__ = "ai_usage"
    __table_args__ = (
        Index("ix_ai_usage_user_created", "user_id", "created_at"),
        Index("ix_ai_usage_created", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("users.id", ondelete="CASCADE"))
    period_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("ai_credit_periods.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    feature: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="reserved")  # settled | refunded
    provider: Mapped[str | None] = mapped_column(String(128), default=None)
    model: Mapped[str | None] = mapped_column(String(128), default=None)
    input_tokens: Mapped[int] = mapped_column(Integer(), default=0)
    output_tokens: Mapped[int] = mapped_column(Integer(), default=0)
    reserved: Mapped[int] = mapped_column(Integer(), default=0)
    credits: Mapped[int] = mapped_column(Integer(), default=0)


class AiDraft(TimestampMixin, Base):
    __tablename__ = "ai_drafts"
    __table_args__ = (Index("ix_ai_drafts_owner_created", "owner_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("users.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text())
    source: Mapped[str] = mapped_column(String(32))  # generate | improve | live_recap | manual
    details: Mapped[dict[str, Any]] = mapped_column(JSON(), default=dict)
