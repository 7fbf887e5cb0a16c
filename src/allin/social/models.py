"""Database tables of connected social accounts (migration 0007_social).

One row per platform account a user connected, whatever the platform. Its tokens are encrypted
with the key-versioned cipher (`core.crypto`) and bound to the row: the row id is part of the
associated data, so a ciphertext copied into another row does not decrypt there. Rows moved from
an older table may still carry ciphertexts bound only to the key (`token_binding = "key"`); the
accounts service re-binds them when it starts.

OAuth attempts keep only a digest of the state (the state itself travels in the URL), the PKCE
verifier encrypted, and the digest of the browser-binding cookie.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from allin.core.clock import utcnow
from allin.db.base import Base, TimestampMixin


class AccountStatus(StrEnum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"  # the token ran out and cannot be refreshed: reconnect
    REVOKED = "REVOKED"  # the platform or the user withdrew the grant: reconnect
    ERROR = "ERROR"  # something else is wrong (see status_reason); reconnect may not help


class TokenBinding(StrEnum):
    ROW = "row"  # associated data names the row
    KEY = "key"  # associated data names only the key (moved from an older table)


def token_context(account_id: uuid.UUID | str) -> bytes:
    """The associated data that binds a token ciphertext to its account row."""
    return b"social_accounts:" + str(account_id).encode("utf-8")


class SocialAccount(TimestampMixin, Base):
    """One platform account connected by one AllIN user."""

    __tablename__ = "social_accounts"
    __table_args__ = (
        UniqueConstraint(
            "owner_id",
            "platform",
            "platform_user_id",
            name="uq_social_accounts_owner_platform_user",
        ),
        Index("ix_social_accounts_platform_user", "platform", "platform_user_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    username: Mapped[str | None] = mapped_column(String(255), default=None)
    display_name: Mapped[str | None] = mapped_column(String(255), default=None)
    avatar_url: Mapped[str | None] = mapped_column(Text(), default=None)
    scopes: Mapped[list[str]] = mapped_column(JSON(), default=list)
    status: Mapped[str] = mapped_column(String(16), default=AccountStatus.ACTIVE, index=True)
    status_reason: Mapped[str | None] = mapped_column(Text(), default=None)
    reconnect_fixes: Mapped[bool] = mapped_column(Boolean(), default=False)
    access_token_enc: Mapped[str | None] = mapped_column(Text(), default=None)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text(), default=None)
    token_binding: Mapped[str] = mapped_column(String(8), default=TokenBinding.ROW)
    token_type: Mapped[str] = mapped_column(String(32), default="Bearer")
    token_expires_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    refresh_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    token_issued_at: Mapped[datetime | None] = mapped_column(default=None)
    token_refreshed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_sync_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text(), default=None)
    last_error_at: Mapped[datetime | None] = mapped_column(default=None)
    expiry_reminder_sent_at: Mapped[datetime | None] = mapped_column(default=None)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON(), default=dict)
    """Platform details that are not secrets (TikTok union_id, a Page's Instagram id...)."""
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)


class SocialOAuthAttempt(Base):
    """One consent in progress: single use, expiring, bound to a user and a browser."""

    __tablename__ = "social_oauth_attempts"

    state_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    code_verifier_enc: Mapped[str | None] = mapped_column(Text(), default=None)
    binding_digest: Mapped[str | None] = mapped_column(String(64), default=None)
    return_url: Mapped[str | None] = mapped_column(Text(), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None] = mapped_column(default=None)
