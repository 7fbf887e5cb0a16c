"""Upgrading a database that holds TikTok accounts: every account lands in the social accounts
table with its id, owner, profile and tokens, which still decrypt (and are bound to their row
once the accounts service starts); the publish journal and snapshots still point at them."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select, text

from allin.core.config import Settings
from allin.core.crypto import cipher_from_settings
from allin.db import migrate
from allin.db.base import UTCDateTime
from allin.db.engine import create_engine, create_session_factory
from allin.social.models import SocialAccount, token_context
from allin.social.registry import ProviderRegistry, provider_configs
from allin.social.service import SocialAccountsService

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _table(name: str, **columns: Any) -> sa.TableClause:
    return sa.table(name, *(sa.column(key, kind) for key, kind in columns.items()))


USERS = _table(
    "users",
    id=sa.Uuid(),
    email=sa.String(),
    password_hash=sa.String(),
    display_name=sa.String(),
    status=sa.String(),
    role=sa.String(),
    plan=sa.String(),
    password_changed_at=UTCDateTime(),
    created_at=UTCDateTime(),
    updated_at=UTCDateTime(),
)
TIKTOK_ACCOUNTS = _table(
    "tiktok_accounts",
    id=sa.Uuid(),
    owner_id=sa.Uuid(),
    open_id=sa.String(),
    union_id=sa.String(),
    display_name=sa.String(),
    avatar_url=sa.String(),
    scopes=sa.JSON(),
    status=sa.String(),
    access_token_enc=sa.String(),
    access_expires_at=UTCDateTime(),
    refresh_token_enc=sa.String(),
    refresh_expires_at=UTCDateTime(),
    token_type=sa.String(),
    issued_at=UTCDateTime(),
    connected_at=UTCDateTime(),
    created_at=UTCDateTime(),
    updated_at=UTCDateTime(),
)
SNAPSHOTS = _table(
    "tiktok_analytics_snapshots",
    account_id=sa.Uuid(),
    day=sa.Date(),
    taken_at=UTCDateTime(),
    views=sa.Integer(),
    likes=sa.Integer(),
    comments=sa.Integer(),
    shares=sa.Integer(),
    engagement_rate=sa.Float(),
    videos=sa.JSON(),
)


async def _seed(url: str, settings: Settings) -> list[dict[str, Any]]:
    """Two users, three TikTok accounts (one withdrawn) as the older schema stored them."""
    cipher = cipher_from_settings(settings)
    users = [uuid.uuid4(), uuid.uuid4()]
    accounts: list[dict[str, Any]] = [
        {
            "id": uuid.uuid4(),
            "owner": owner,
            "open_id": f"open-{n}",
            "access": f"act.{n}.secret",
            "refresh": f"rft.{n}.secret",
            "status": status,
        }
        for n, (owner, status) in enumerate(
            [(users[0], "active"), (users[0], "reconnect_required"), (users[1], "active")]
        )
    ]
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for n, user in enumerate(users):
                await conn.execute(
                    USERS.insert().values(
                        id=user,
                        email=f"u{n}@example.com",
                        password_hash="x",
                        display_name="u",
                        status="ACTIVE",
                        role="user",
                        plan="free",
                        password_changed_at=NOW,
                        created_at=NOW,
                        updated_at=NOW,
                    )
                )
            for n, account in enumerate(accounts):
                await conn.execute(
                    TIKTOK_ACCOUNTS.insert().values(
                        id=account["id"],
                        owner_id=account["owner"],
                        open_id=account["open_id"],
                        union_id=f"union-{n}",
                        display_name=f"Creator {n}",
                        avatar_url="https://example.com/p.jpg",
                        scopes=["video.list"],
                        status=account["status"],
                        access_token_enc=cipher.encrypt(account["access"]),
                        access_expires_at=NOW + timedelta(hours=24),
                        refresh_token_enc=cipher.encrypt(account["refresh"]),
                        refresh_expires_at=NOW + timedelta(days=365),
                        token_type="Bearer",
                        issued_at=NOW,
                        connected_at=NOW,
                        created_at=NOW,
                        updated_at=NOW,
                    )
                )
            await conn.execute(
                SNAPSHOTS.insert().values(
                    account_id=accounts[0]["id"],
                    day=date(2026, 12, 1),
                    taken_at=NOW,
                    views=10,
                    likes=2,
                    comments=1,
                    shares=0,
                    engagement_rate=0.3,
                    videos=[],
                )
            )
    finally:
        await engine.dispose()
    return accounts


async def test_tiktok_accounts_move_with_their_tokens(
    database_url: str, settings: Settings
) -> None:
    await asyncio.to_thread(migrate.upgrade, database_url, "0006_hardening")
    accounts = await _seed(database_url, settings)
    await asyncio.to_thread(migrate.upgrade, database_url, "head")

    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    cipher = cipher_from_settings(settings)
    try:
        async with sessions() as db:
            rows = {row.id: row for row in (await db.scalars(select(SocialAccount)))}
            snapshots = await db.scalar(text("SELECT count(*) FROM tiktok_analytics_snapshots"))
        assert set(rows) == {a["id"] for a in accounts} and snapshots == 1
        for account in accounts:
            row = rows[account["id"]]
            assert row.platform == "tiktok" and row.platform_user_id == account["open_id"]
            assert row.owner_id == account["owner"] and row.display_name
            assert row.extra["union_id"].startswith("union-")
            assert row.token_binding == "key"
            assert cipher.decrypt(row.access_token_enc or "") == account["access"]
            withdrawn = account["status"] != "active"
            assert row.status == ("REVOKED" if withdrawn else "ACTIVE")
            assert row.reconnect_fixes is withdrawn

        service = SocialAccountsService(
            settings, sessions, ProviderRegistry(provider_configs(settings)), cipher
        )
        assert await service.rebind_tokens() == 3
        assert await service.rebind_tokens() == 0
        for account in accounts:
            row = await service.get_account(account["id"])
            assert row.token_binding == "row"
            tokens = service.token_set(row)
            assert (tokens.access_token, tokens.refresh_token) == (
                account["access"],
                account["refresh"],
            )
            with pytest.raises(ValueError):  # bound: no longer readable as a bare ciphertext
                cipher.decrypt(row.access_token_enc or "")
            other = token_context(uuid.uuid4())
            with pytest.raises(ValueError):  # nor under another row's id
                cipher.decrypt(row.access_token_enc or "", other)
    finally:
        await engine.dispose()

    await asyncio.to_thread(migrate.downgrade, database_url, "0006_hardening")
    await asyncio.to_thread(migrate.upgrade, database_url, "head")
