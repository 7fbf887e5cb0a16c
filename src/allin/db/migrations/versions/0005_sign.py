"""Sign service: API key usage per hour.

Revision ID: 0005_sign
Revises: 0004_live
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from allin.db.base import UTCDateTime

revision: str = "0005_sign"
down_revision: str | None = "0004_live"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_usage",
        sa.Column("api_key_id", sa.Uuid(), nullable=False),
        sa.Column("hour", UTCDateTime(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("rate_limited", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_sign_usage_api_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("api_key_id", "hour", name=op.f("pk_sign_usage")),
    )


def downgrade() -> None:
    op.drop_table("sign_usage")
