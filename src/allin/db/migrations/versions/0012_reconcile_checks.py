"""How many times the publishing queue has asked a platform about a send without an answer
(bounded by the posts_reconcile_max setting).

Revision ID: 0012_reconcile_checks
Revises: 0011_rate_windows
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_reconcile_checks"
down_revision: str | None = "0011_rate_windows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("post_targets") as batch:
        batch.add_column(sa.Column("checks", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("post_targets") as batch:
        batch.drop_column("checks")
