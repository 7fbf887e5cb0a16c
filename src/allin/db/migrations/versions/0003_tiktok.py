"""TikTok Open API: connected accounts, OAuth states, publish journal, webhook keys, snapshots.

Revision ID: 0003_tiktok
Revises: 0002_auth
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from allin.db.base import UTCDateTime

revision: str = "0003_tiktok"
down_revision: str | None = "0002_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tiktok_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("open_id", sa.String(128), nullable=False),
        sa.Column("union_id", sa.String(128), nullable=True),
        sa.Column("display_name", sa.String(255), nullable=True),
        sa.Column("avatar_url", sa.Text(), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("access_token_enc", sa.Text(), nullable=True),
        sa.Column("access_expires_at", UTCDateTime(), nullable=True),
        sa.Column("refresh_token_enc", sa.Text(), nullable=True),
        sa.Column("refresh_expires_at", UTCDateTime(), nullable=True),
        sa.Column("token_type", sa.String(32), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=True),
        sa.Column("refreshed_at", UTCDateTime(), nullable=True),
        sa.Column("connected_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'reconnect_required')", name=op.f("ck_tiktok_accounts_status")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_tiktok_accounts_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tiktok_accounts")),
    )
    op.create_index(op.f("ix_tiktok_accounts_owner_id"), "tiktok_accounts", ["owner_id"])
    op.create_index(op.f("ix_tiktok_accounts_open_id"), "tiktok_accounts", ["open_id"], unique=True)

    op.create_table(
        "tiktok_oauth_states",
        sa.Column("state_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_tiktok_oauth_states_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_tiktok_oauth_states")),
    )
    op.create_index(op.f("ix_tiktok_oauth_states_user_id"), "tiktok_oauth_states", ["user_id"])
    op.create_index(
        op.f("ix_tiktok_oauth_states_expires_at"), "tiktok_oauth_states", ["expires_at"]
    )

    op.create_table(
        "tiktok_publishes",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("privacy_level", sa.String(32), nullable=True),
        sa.Column("publish_id", sa.String(128), nullable=True),
        sa.Column("upload_url", sa.Text(), nullable=True),
        sa.Column("upload_expires_at", UTCDateTime(), nullable=True),
        sa.Column("file_path", sa.Text(), nullable=True),
        sa.Column("video_size", sa.BigInteger(), nullable=True),
        sa.Column("chunk_size", sa.BigInteger(), nullable=True),
        sa.Column("total_chunk_count", sa.Integer(), nullable=True),
        sa.Column("uploaded_bytes", sa.BigInteger(), nullable=False),
        sa.Column("tiktok_status", sa.String(32), nullable=True),
        sa.Column("fail_reason", sa.String(128), nullable=True),
        sa.Column("post_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["tiktok_accounts.id"],
            name=op.f("fk_tiktok_publishes_account_id_tiktok_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tiktok_publishes")),
        sa.UniqueConstraint("publish_id", name=op.f("uq_tiktok_publishes_publish_id")),
    )
    op.create_index(op.f("ix_tiktok_publishes_account_id"), "tiktok_publishes", ["account_id"])
    op.create_index(op.f("ix_tiktok_publishes_state"), "tiktok_publishes", ["state"])

    op.create_table(
        "tiktok_webhook_events",
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("idempotency_key", name=op.f("pk_tiktok_webhook_events")),
    )
    op.create_index(
        op.f("ix_tiktok_webhook_events_received_at"), "tiktok_webhook_events", ["received_at"]
    )

    op.create_table(
        "tiktok_analytics_snapshots",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("taken_at", UTCDateTime(), nullable=False),
        sa.Column("followers", sa.BigInteger(), nullable=True),
        sa.Column("following", sa.BigInteger(), nullable=True),
        sa.Column("total_likes", sa.BigInteger(), nullable=True),
        sa.Column("video_count", sa.Integer(), nullable=True),
        sa.Column("views", sa.BigInteger(), nullable=False),
        sa.Column("likes", sa.BigInteger(), nullable=False),
        sa.Column("comments", sa.BigInteger(), nullable=False),
        sa.Column("shares", sa.BigInteger(), nullable=False),
        sa.Column("engagement_rate", sa.Float(), nullable=False),
        sa.Column("videos", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["tiktok_accounts.id"],
            name=op.f("fk_tiktok_analytics_snapshots_account_id_tiktok_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "day", name=op.f("pk_tiktok_analytics_snapshots")),
    )


def downgrade() -> None:
    op.drop_table("tiktok_analytics_snapshots")
    op.drop_index(op.f("ix_tiktok_webhook_events_received_at"), "tiktok_webhook_events")
    op.drop_table("tiktok_webhook_events")
    op.drop_index(op.f("ix_tiktok_publishes_state"), "tiktok_publishes")
    op.drop_index(op.f("ix_tiktok_publishes_account_id"), "tiktok_publishes")
    op.drop_table("tiktok_publishes")
    op.drop_index(op.f("ix_tiktok_oauth_states_expires_at"), "tiktok_oauth_states")
    op.drop_index(op.f("ix_tiktok_oauth_states_user_id"), "tiktok_oauth_states")
    op.drop_table("tiktok_oauth_states")
    op.drop_index(op.f("ix_tiktok_accounts_open_id"), "tiktok_accounts")
    op.drop_index(op.f("ix_tiktok_accounts_owner_id"), "tiktok_accounts")
    op.drop_table("tiktok_accounts")
