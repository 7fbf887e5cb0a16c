"""API keys (shown once: "copy the key immediately, it won't be shown again").

A key looks like `allin_AbCd1234_<43 random chars>`; `allin_AbCd1234` is the visible
prefix kept for lists, the whole key is stored only as its SHA-256 digest.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from allin.auth.models import DEFAULT_KEY_SCOPES, ApiKey, User, UserStatus
from allin.auth.tokens import hash_secret
from allin.core.clock import utcnow

KEY_PREFIX = "allin_"
_ALPHABET = string.ascii_letters + string.digits
_KEY_RE = re.compile(r"^allin_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$")
# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def generate_key() -> tuple[str, str]:
    """(raw key, visible prefix)."""
    visible = KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{visible}_{secrets.token_urlsafe(32)}", visible


def looks_like_api_key(raw: str) -> bool:
    return raw.startswith(KEY_PREFIX)


def is_well_formed(raw: str) -> bool:
    return _KEY_RE.fullmatch(raw) is not None


async def create_api_key(
    db: AsyncSession,
    user: User,
    name: str,
    expires_at: datetime | None,
    scopes: Sequence[str] = DEFAULT_KEY_SCOPES,
) -> tuple[ApiKey, str]:
    raw, visible = generate_key()
    key = ApiKey(
        id=uuid.uuid4(),
        user_id=user.id,
        name=name,
        prefix=visible,
        key_hash=hash_secret(raw),
        expires_at=expires_at,
        scopes=sorted(set(scopes)),
    )
    db.add(key)
    await db.flush()
    return key, raw


async def list_api_keys(db: AsyncSession, user: User) -> list[ApiKey]:
    rows = await db.scalars(
        select(ApiKey).where(ApiKey.user_id == user.id).order_by(ApiKey.created_at.desc())
    )
    return list(rows)


KeyStatus = Literal["active", "expired", "revoked"]


def key_status(key: ApiKey, now: datetime | None = None) -> KeyStatus:
    now = now or utcnow()
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active"


async def authenticate_api_key(session: AsyncSession, raw_key: str) -> ApiKey | None:
    """The active key matching `raw_key` (with `.user` loaded), or None when the key is
    unknown, malformed, revoked, expired, or its owner is not ACTIVE. Records last use.

    Used by `CurrentUser` and by the sign service (keys in `Authorization: Bearer`,
    `x-api-key` or the `apiKey` query parameter)."""
    if not is_well_formed(raw_key):
        return None
    key = await session.scalar(
        select(ApiKey)
        .options(joinedload(ApiKey.user))
        .where(ApiKey.key_hash == hash_secret(raw_key))
    )
    now = utcnow()
    if key is None or key_status(key, now) != "active":
        return None
    if key.user.status != UserStatus.ACTIVE:
        return None
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        key.last_used_at = now
    return key
