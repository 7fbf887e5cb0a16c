"""Hardening: OAuth states bound to the starting browser; API key scopes.

Revision ID: 0006_hardening
Revises: 0005_sign
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_hardening"
down_revision: str | None = "0005_sign"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tiktok_oauth_states") as batch:
        batch.add_column(sa.Column("binding_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tiktok_oauth_states") as batch:
        batch.drop_column("binding_digest")
