"""Posts, their per-account targets (the publishing queue), media library, posting slots,
notifications, posting preferences and queue worker heartbeats.

Revision ID: 0008_posts
Revises: 0007_social
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from allin.db.base import UTCDateTime

revision: str = "0008_posts"
down_revision: str | None = "0007_social"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = "'DRAFT', 'SCHEDULED', 'PUBLISHING', 'PUBLISHED', 'FAILED', 'UNCONFIRMED', 'CANCELLED'"


def _owner(column: str = "owner_id") -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(column, sa.Uuid(), nullable=False)


def _owner_fk(table: str, column: str = "owner_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], name=op.f(f"fk_{table}_{column}_users"), ondelete="CASCADE"
    )


def _stamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "posts",
        sa.Column("id", sa.Uuid(), nullable=False),
        _owner(),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("variants", sa.JSON(), nullable=False),
        sa.Column("media_ids", sa.JSON(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        *_stamps(),
        _owner_fk("posts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
    )
    op.create_index("ix_posts_owner_created", "posts", ["owner_id", "created_at"])
    op.create_table(
        "post_targets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("post_id", sa.Uuid(), nullable=False),
        _owner(),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("scheduled_at", UTCDateTime(), nullable=True),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("tracking_id", sa.String(128), nullable=True),
        sa.Column("platform_post_id", sa.String(128), nullable=True),
        sa.Column("platform_url", sa.Text(), nullable=True),
        sa.Column("last_error_code", sa.String(32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("notified_at", UTCDateTime(), nullable=True),
        *_stamps(),
        sa.CheckConstraint(f"status IN ({_STATUSES})", name=op.f("ck_post_targets_status")),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_targets_post_id_posts"),
            ondelete="CASCADE",
        ),
        _owner_fk("post_targets"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_targets")),
        sa.UniqueConstraint("post_id", "account_id", name=op.f("uq_post_targets_post_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_post_targets_idempotency_key")),
    )
    op.create_index("ix_post_targets_due", "post_targets", ["status", "next_attempt_at"])
    op.create_index("ix_post_targets_owner_scheduled", "post_targets", ["owner_id", "scheduled_at"])
    op.create_index("ix_post_targets_account", "post_targets", ["account_id", "scheduled_at"])
    op.create_table(
        "media_assets",
        sa.Column("id", sa.Uuid(), nullable=False),
        _owner(),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("storage_path", sa.Text(), nullable=False),
        sa.Column("mime_type", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("frame_rate", sa.Float(), nullable=True),
        sa.Column("thumbnail_path", sa.Text(), nullable=True),
        *_stamps(),
        _owner_fk("media_assets"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_assets")),
    )
    op.create_index("ix_media_assets_owner_created", "media_assets", ["owner_id", "created_at"])
    op.create_table(
        "posting_slots",
        sa.Column("id", sa.Uuid(), nullable=False),
        _owner(),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("minute_of_day", sa.SmallInteger(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_posting_slots_weekday")),
        sa.CheckConstraint(
            "minute_of_day BETWEEN 0 AND 1439", name=op.f("ck_posting_slots_minute_of_day")
        ),
        _owner_fk("posting_slots"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posting_slots")),
        sa.UniqueConstraint(
            "account_id", "weekday", "minute_of_day", name=op.f("uq_posting_slots_account_id")
        ),
    )
    op.create_index("ix_posting_slots_account_id", "posting_slots", ["account_id"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        _owner("user_id"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("post_id", sa.Uuid(), nullable=True),
        sa.Column("target_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        _owner_fk("notifications", "user_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index("ix_notifications_user_created", "notifications", ["user_id", "created_at"])
    op.create_table(
        "posting_preferences",
        _owner("user_id"),
        sa.Column("email_on_failure", sa.Boolean(), nullable=False),
        sa.Column("calendar_token_hash", sa.String(64), nullable=True),
        _owner_fk("posting_preferences", "user_id"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_posting_preferences")),
        sa.UniqueConstraint(
            "calendar_token_hash", name=op.f("uq_posting_preferences_calendar_token_hash")
        ),
    )
    op.create_table(
        "queue_workers",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=False),
        sa.Column("published", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_workers")),
    )


def downgrade() -> None:
    for table in (
        "queue_workers",
        "posting_preferences",
        "notifications",
        "posting_slots",
        "media_assets",
        "post_targets",
        "posts",
    ):
        op.drop_table(table)
