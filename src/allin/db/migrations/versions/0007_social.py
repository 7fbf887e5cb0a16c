"""Social accounts: one table for every platform; TikTok's connected accounts move into it.

Every `tiktok_accounts` row becomes a `social_accounts` row with the same id (so the publish
journal and the analytics snapshots keep pointing at it), platform `tiktok`, its open_id as the
platform user id and its union_id under `extra`. The token ciphertexts move unchanged: they are
bound to the encryption key only (`token_binding = "key"`), and the accounts service re-binds
them to their row at start-up, which needs the instance's keys, not the migration.

Revision ID: 0007_social
Revises: 0006_ai
Create Date: 2026-12-06
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from allin.db.base import UTCDateTime

revision: str = "0007_social"
down_revision: str | None = "0006_ai"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tables that point at a TikTok account: (table, foreign key column).
_DEPENDENTS = (("tiktok_publishes", "account_id"), ("tiktok_analytics_snapshots", "account_id"))


def upgrade() -> None:
    _create_social_tables()
    _copy_tiktok_accounts_in()
    for table, column in _DEPENDENTS:
        _repoint(table, column, "tiktok_accounts", "social_accounts")
    op.drop_index(op.f("ix_tiktok_accounts_open_id"), "tiktok_accounts")
    op.drop_index(op.f("ix_tiktok_accounts_owner_id"), "tiktok_accounts")
    op.drop_table("tiktok_accounts")


def downgrade() -> None:
    _create_tiktok_accounts()
    _copy_tiktok_accounts_out()
    for table, column in _DEPENDENTS:
        _repoint(table, column, "social_accounts", "tiktok_accounts")
    op.drop_index(op.f("ix_social_oauth_attempts_expires_at"), "social_oauth_attempts")
    op.drop_index(op.f("ix_social_oauth_attempts_user_id"), "social_oauth_attempts")
    op.drop_table("social_oauth_attempts")
    for name in ("platform_user", "token_expires_at", "status", "owner_id"):
        op.drop_index(f"ix_social_accounts_{name}", "social_accounts")
    op.drop_table("social_accounts")


def _create_social_tables() -> None:
    op.create_table(
        "social_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("platform_user_id", sa.String(128), nullable=False),
        sa.Column("username", sa.String(255), nullable=True),
        sa.Column("display_name", sa.String(255), nullable=True),
        sa.Column("avatar_url", sa.Text(), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("reconnect_fixes", sa.Boolean(), nullable=False),
        sa.Column("access_token_enc", sa.Text(), nullable=True),
        sa.Column("refresh_token_enc", sa.Text(), nullable=True),
        sa.Column("token_binding", sa.String(8), nullable=False),
        sa.Column("token_type", sa.String(32), nullable=False),
        sa.Column("token_expires_at", UTCDateTime(), nullable=True),
        sa.Column("refresh_expires_at", UTCDateTime(), nullable=True),
        sa.Column("token_issued_at", UTCDateTime(), nullable=True),
        sa.Column("token_refreshed_at", UTCDateTime(), nullable=True),
        sa.Column("last_sync_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", UTCDateTime(), nullable=True),
        sa.Column("expiry_reminder_sent_at", UTCDateTime(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("connected_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_social_accounts_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_accounts")),
        sa.UniqueConstraint(
            "owner_id",
            "platform",
            "platform_user_id",
            name=op.f("uq_social_accounts_owner_platform_user"),
        ),
    )
    op.create_index("ix_social_accounts_owner_id", "social_accounts", ["owner_id"])
    op.create_index("ix_social_accounts_status", "social_accounts", ["status"])
    op.create_index("ix_social_accounts_token_expires_at", "social_accounts", ["token_expires_at"])
    op.create_index(
        "ix_social_accounts_platform_user", "social_accounts", ["platform", "platform_user_id"]
    )
    op.create_table(
        "social_oauth_attempts",
        sa.Column("state_digest", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("code_verifier_enc", sa.Text(), nullable=True),
        sa.Column("binding_digest", sa.String(64), nullable=True),
        sa.Column("return_url", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_social_oauth_attempts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("state_digest", name=op.f("pk_social_oauth_attempts")),
    )
    op.create_index(op.f("ix_social_oauth_attempts_user_id"), "social_oauth_attempts", ["user_id"])
    op.create_index(
        op.f("ix_social_oauth_attempts_expires_at"), "social_oauth_attempts", ["expires_at"]
    )


def _tiktok_table() -> sa.TableClause:
    return sa.table(
        "tiktok_accounts",
        *(
            sa.column(name, kind)
            for name, kind in (
                ("id", sa.Uuid()),
                ("owner_id", sa.Uuid()),
                ("open_id", sa.String()),
                ("union_id", sa.String()),
                ("display_name", sa.String()),
                ("avatar_url", sa.Text()),
                ("scopes", sa.JSON()),
                ("status", sa.String()),
                ("access_token_enc", sa.Text()),
                ("access_expires_at", UTCDateTime()),
                ("refresh_token_enc", sa.Text()),
                ("refresh_expires_at", UTCDateTime()),
                ("token_type", sa.String()),
                ("issued_at", UTCDateTime()),
                ("refreshed_at", UTCDateTime()),
                ("connected_at", UTCDateTime()),
                ("created_at", UTCDateTime()),
                ("updated_at", UTCDateTime()),
            )
        ),
    )


def _social_table() -> sa.TableClause:
    return sa.table(
        "social_accounts",
        *(
            sa.column(name, kind)
            for name, kind in (
                ("id", sa.Uuid()),
                ("owner_id", sa.Uuid()),
                ("platform", sa.String()),
                ("platform_user_id", sa.String()),
                ("username", sa.String()),
                ("display_name", sa.String()),
                ("avatar_url", sa.Text()),
                ("scopes", sa.JSON()),
                ("status", sa.String()),
                ("status_reason", sa.Text()),
                ("reconnect_fixes", sa.Boolean()),
                ("access_token_enc", sa.Text()),
                ("refresh_token_enc", sa.Text()),
                ("token_binding", sa.String()),
                ("token_type", sa.String()),
                ("token_expires_at", UTCDateTime()),
                ("refresh_expires_at", UTCDateTime()),
                ("token_issued_at", UTCDateTime()),
                ("token_refreshed_at", UTCDateTime()),
                ("extra", sa.JSON()),
                ("connected_at", UTCDateTime()),
                ("created_at", UTCDateTime()),
                ("updated_at", UTCDateTime()),
            )
        ),
    )


def _copy_tiktok_accounts_in() -> None:
    bind = op.get_bind()
    tiktok = _tiktok_table()
    rows = [_social_row(row._mapping) for row in bind.execute(sa.select(tiktok))]
    if rows:
        op.bulk_insert(_social_table(), rows)


def _social_row(row: Any) -> dict[str, Any]:
    withdrawn = row["status"] != "active"
    return {
        "id": row["id"],
        "owner_id": row["owner_id"],
        "platform": "tiktok",
        "platform_user_id": row["open_id"],
        "username": None,
        "display_name": row["display_name"],
        "avatar_url": row["avatar_url"],
        "scopes": row["scopes"] or [],
        "status": "REVOKED" if withdrawn else "ACTIVE",
        "status_reason": "TikTok withdrew the authorization" if withdrawn else None,
        "reconnect_fixes": withdrawn,
        "access_token_enc": row["access_token_enc"],
        "refresh_token_enc": row["refresh_token_enc"],
        "token_binding": "key",
        "token_type": row["token_type"],
        "token_expires_at": row["access_expires_at"],
        "refresh_expires_at": row["refresh_expires_at"],
        "token_issued_at": row["issued_at"],
        "token_refreshed_at": row["refreshed_at"],
        "extra": {"union_id": row["union_id"]} if row["union_id"] else {},
        "connected_at": row["connected_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _create_tiktok_accounts() -> None:
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


def _copy_tiktok_accounts_out() -> None:
    """Back to the older table. Tokens already bound to their row cannot be read by the older
    code: those accounts go back without tokens, as "reconnect_required"."""
    bind = op.get_bind()
    social = _social_table()
    rows = []
    seen: set[str] = set()
    for row in bind.execute(sa.select(social).where(social.c.platform == "tiktok")):
        data = row._mapping
        if data["platform_user_id"] in seen:  # open_id was unique across users there
            continue
        seen.add(data["platform_user_id"])
        usable = data["token_binding"] == "key" and data["status"] == "ACTIVE"  # noqa: S105
        rows.append(
            {
                "id": data["id"],
                "owner_id": data["owner_id"],
                "open_id": data["platform_user_id"],
                "union_id": (data["extra"] or {}).get("union_id"),
                "display_name": data["display_name"],
                "avatar_url": data["avatar_url"],
                "scopes": data["scopes"] or [],
                "status": "active" if usable else "reconnect_required",
                "access_token_enc": data["access_token_enc"] if usable else None,
                "access_expires_at": data["token_expires_at"] if usable else None,
                "refresh_token_enc": data["refresh_token_enc"] if usable else None,
                "refresh_expires_at": data["refresh_expires_at"] if usable else None,
                "token_type": data["token_type"],
                "issued_at": data["token_issued_at"],
                "refreshed_at": data["token_refreshed_at"],
                "connected_at": data["connected_at"],
                "created_at": data["created_at"],
                "updated_at": data["updated_at"],
            }
        )
    if rows:
        op.bulk_insert(_tiktok_table(), rows)
    kept = sa.select(_tiktok_table().c.id)
    for table, column in _DEPENDENTS:
        dependent = sa.table(table, sa.column(column, sa.Uuid()))
        bind.execute(sa.delete(dependent).where(dependent.c[column].not_in(kept)))


def _repoint(table: str, column: str, old: str, new: str) -> None:
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(op.f(f"fk_{table}_{column}_{old}"), type_="foreignkey")
        batch.create_foreign_key(
            op.f(f"fk_{table}_{column}_{new}"), new, [column], ["id"], ondelete="CASCADE"
        )
