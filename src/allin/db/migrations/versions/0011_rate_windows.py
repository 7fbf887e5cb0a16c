"""Rate windows: a platform's "limited until" per account or per app, shared by every
publishing process.

Revision ID: 0011_rate_windows
Revises: 0010_procrastinate
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from allin.db.base import UTCDateTime

revision: str = "0011_rate_windows"
down_revision: str | None = "0010_procrastinate"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_windows",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("until", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("scope IN ('account', 'app')", name=op.f("ck_rate_windows_scope")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_windows")),
        sa.UniqueConstraint("scope", "platform", "key", name=op.f("uq_rate_windows_scope")),
    )
    op.create_index("ix_rate_windows_until", "rate_windows", ["until"])


def downgrade() -> None:
    op.drop_table("rate_windows")
