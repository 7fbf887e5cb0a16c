"""What the social API returns. Accounts carry what an accounts page shows: avatar, status,
expiry, the last error in words and whether reconnecting fixes it. Never a token."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from allin.core.clock import utcnow
from allin.social.models import AccountStatus, SocialAccount

PLATFORM_NAMES = {
    "tiktok": "TikTok",
    "x": "X",
    "linkedin": "LinkedIn",
    "facebook": "Facebook Pages",
    "instagram": "Instagram",
}


class ProviderOut(BaseModel):
    platform: str
    name: str
    available: bool  # this server has the platform's provider
    configured: bool  # and its app credentials
    status: Literal["configured", "not configured", "not available"]
    scopes: list[str]
    uses_pkce: bool | None
    can_refresh: bool | None
    redirect_uri: str
    connect_url: str


class ConnectOut(BaseModel):
    platform: str
    authorization_url: str
    expires_in: int  # seconds the consent may take


class AccountOut(BaseModel):
    id: uuid.UUID
    platform: str
    platform_name: str
    platform_user_id: str
    username: str | None
    display_name: str | None
    avatar_url: str | None
    scopes: list[str]
    status: AccountStatus
    status_reason: str | None
    reconnect_required: bool
    reconnect_url: str
    can_refresh: bool
    token_expires_at: datetime | None
    expires_in_seconds: int | None  # negative once expired
    refresh_expires_at: datetime | None
    last_sync_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    connected_at: datetime

    @classmethod
    def of(cls, row: SocialAccount, *, can_refresh: bool) -> AccountOut:
        expires_in = None
        if row.token_expires_at is not None:
            expires_in = int((row.token_expires_at - utcnow()).total_seconds())
        status = AccountStatus(row.status)
        return cls(
            id=row.id,
            platform=row.platform,
            platform_name=PLATFORM_NAMES.get(row.platform, row.platform),
            platform_user_id=row.platform_user_id,
            username=row.username,
            display_name=row.display_name,
            avatar_url=row.avatar_url,
            scopes=list(row.scopes or ()),
            status=status,
            status_reason=row.status_reason,
            reconnect_required=status is not AccountStatus.ACTIVE and row.reconnect_fixes,
            reconnect_url=f"/api/social/accounts/{row.platform}/connect",
            can_refresh=can_refresh,
            token_expires_at=row.token_expires_at,
            expires_in_seconds=expires_in,
            refresh_expires_at=row.refresh_expires_at,
            last_sync_at=row.last_sync_at,
            last_error=row.last_error,
            last_error_at=row.last_error_at,
            connected_at=row.connected_at,
        )


class DisconnectedOut(BaseModel):
    id: uuid.UUID
    revoked: bool  # whether the platform confirmed the revocation (best effort)


class RefreshFailureOut(BaseModel):
    id: uuid.UUID
    code: str
    message: str


class RefreshReportOut(BaseModel):
    refreshed: list[uuid.UUID]
    failed: list[RefreshFailureOut]
    reminded: int
    expired: int


class ExternalApiOut(BaseModel):
    platform: str
    name: str
    configured: bool
    circuit_breaker: str | None  # CLOSED / OPEN / HALF_OPEN; None until first used
    last_success_at: datetime | None
    last_failure_at: datetime | None
