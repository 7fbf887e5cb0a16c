"""LIVE capture: streamers, sessions, events, watchlist.

Revision ID: 0004_live
Revises: 0002_auth
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from allin.db.base import UTCDateTime

revision: str = "0004_live"
down_revision: str | None = "0002_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit id.
EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "streamers",
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=True),
        sa.Column("display_name", sa.String(128), nullable=True),
        sa.Column("follower_count", sa.BigInteger(), nullable=True),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("avatar_url", sa.Text(), nullable=True),
        sa.Column("total_sessions", sa.Integer(), nullable=False),
        sa.Column("last_live_at", UTCDateTime(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_streamers")),
    )
    op.create_table(
        "live_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("streamer_username", sa.String(64), nullable=False),
        sa.Column("room_id", sa.String(32), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("end_reason", sa.String(64), nullable=True),
        sa.Column("streamer_info", sa.JSON(), nullable=False),
        sa.Column("counters", sa.JSON(), nullable=False),
        sa.Column("total_events", sa.BigInteger(), nullable=False),
        sa.Column("total_likes", sa.BigInteger(), nullable=False),
        sa.Column("total_diamonds", sa.BigInteger(), nullable=False),
        sa.Column("peak_viewers", sa.Integer(), nullable=False),
        sa.Column("current_viewers", sa.Integer(), nullable=False),
        sa.Column("capture_node", sa.String(64), nullable=True),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=True),
        sa.Column("resume_count", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_live_sessions_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["streamer_username"],
            ["streamers.username"],
            name=op.f("fk_live_sessions_streamer_username_streamers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_sessions")),
    )
    with op.batch_alter_table("live_sessions") as batch:
        batch.create_index("ix_live_sessions_owner_started", ["owner_id", "started_at"])
        batch.create_index("ix_live_sessions_owner_streamer", ["owner_id", "streamer_username"])
        batch.create_index("ix_live_sessions_status_heartbeat", ["status", "heartbeat_at"])

    op.create_table(
        "live_events",
        sa.Column("id", EVENT_ID, autoincrement=True, nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("msg_id", sa.BigInteger(), nullable=True),
        sa.Column("user_id", sa.String(32), nullable=True),
        sa.Column("unique_id", sa.String(64), nullable=True),
        sa.Column("nickname", sa.String(128), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("gift_id", sa.BigInteger(), nullable=True),
        sa.Column("gift_name", sa.String(128), nullable=True),
        sa.Column("diamonds", sa.Integer(), nullable=False),
        sa.Column("gift_count", sa.Integer(), nullable=False),
        sa.Column("repeat_count", sa.Integer(), nullable=True),
        sa.Column("like_count", sa.Integer(), nullable=False),
        sa.Column("viewer_count", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["live_sessions.id"],
            name=op.f("fk_live_events_session_id_live_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_events")),
    )
    with op.batch_alter_table("live_events") as batch:
        batch.create_index("ix_live_events_session_id_id", ["session_id", "id"])
        batch.create_index("ix_live_events_session_type_id", ["session_id", "type", "id"])
        batch.create_index("ix_live_events_session_user_id", ["session_id", "user_id"])

    op.create_table(
        "live_watchlist",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("is_live", sa.Boolean(), nullable=False),
        sa.Column("last_checked_at", UTCDateTime(), nullable=True),
        sa.Column("last_session_id", sa.Uuid(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_live_watchlist_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_watchlist")),
        sa.UniqueConstraint("owner_id", "username", name=op.f("uq_live_watchlist_owner_id")),
    )
    with op.batch_alter_table("live_watchlist") as batch:
        batch.create_index(op.f("ix_live_watchlist_owner_id"), ["owner_id"])


def downgrade() -> None:
    op.drop_table("live_watchlist")
    op.drop_table("live_events")
    op.drop_table("live_sessions")
    op.drop_table("streamers")
