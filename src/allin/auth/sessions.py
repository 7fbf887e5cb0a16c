"""Login sessions: refresh-token families with rotation and reuse detection.

A session is created at login with an opaque refresh token. Each refresh marks that token
used and issues the next one in the same family; presenting a used token again means it
was copied, so the whole family (session) is revoked (ASVS 10.4.5, RFC 9700 §4.14).
Sessions also carry an absolute expiry (SESSION_MAX_AGE) that rotation never extends.

Two stores share one small interface: the database (default) and Redis (`session_store=redis`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from allin.auth.errors import InvalidTokenError, RefreshReuseError
from allin.auth.models import AuthSession, RefreshToken
from allin.auth.tokens import hash_secret, new_secret
from allin.core.clock import utcnow
from allin.core.config import Settings
from allin.core.logging import Category, get_logger

log = get_logger(Category.AUTH)
_UA_MAX = 512
_IP_MAX = 64


@dataclass(frozen=True, slots=True)
class SessionInfo:
    id: uuid.UUID
    user_id: uuid.UUID
    user_agent: str | None
    ip: str | None
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


@dataclass(frozen=True, slots=True)
class IssuedRefresh:
    session: SessionInfo
    refresh_token: str  # the raw token; only its hash is stored
    expires_at: datetime


class SessionStore(Protocol):
    async def create(
        self, user_id: uuid.UUID, *, user_agent: str | None, ip: str | None
    ) -> IssuedRefresh: ...

    async def rotate(self, refresh_token: str) -> IssuedRefresh:
        """Use a refresh token once. Raises InvalidTokenError (unknown, expired, revoked)
        or RefreshReuseError (already used: the family is revoked first)."""
        ...

    async def get(self, session_id: uuid.UUID) -> SessionInfo | None: ...

    async def list_active(self, user_id: uuid.UUID) -> list[SessionInfo]: ...

    async def revoke(self, session_id: uuid.UUID, *, reason: str) -> bool: ...

    async def revoke_all(
        self, user_id: uuid.UUID, *, reason: str, keep: uuid.UUID | None = None
    ) -> int: ...


def clip(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else None


def refresh_expiry(settings: Settings, now: datetime, session_expires: datetime) -> datetime:
    return min(now + settings.refresh_token_expires_in, session_expires)


def _info(row: AuthSession) -> SessionInfo:
    return SessionInfo(
        id=row.id,
        user_id=row.user_id,
        user_agent=row.user_agent,
        ip=row.ip,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


class DatabaseSessionStore:
    """Sessions in the request's database transaction."""

    # Expired sessions are deleted this long after expiry (their used tokens are kept
    # until then so late replays are still recognised).
    PRUNE_AFTER = timedelta(days=1)

    def __init__(self, db: AsyncSession, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    async def create(
        self, user_id: uuid.UUID, *, user_agent: str | None, ip: str | None
    ) -> IssuedRefresh:
        now = utcnow()
        await self._prune(user_id, now)
        row = AuthSession(
            id=uuid.uuid4(),
            user_id=user_id,
            user_agent=clip(user_agent, _UA_MAX),
            ip=clip(ip, _IP_MAX),
            created_at=now,
            last_used_at=now,
            expires_at=now + self.settings.session_max_age,
        )
        self.db.add(row)
        await self.db.flush()
        return await self._issue(row, now)

    async def rotate(self, refresh_token: str) -> IssuedRefresh:
        token = await self.db.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == hash_secret(refresh_token))
        )
        if token is None:
            raise InvalidTokenError("Refresh token invalid")
        session = await self.db.get(AuthSession, token.session_id)
        if session is None or session.revoked_at is not None:
            raise InvalidTokenError("Session revoked")
        now = utcnow()
        if token.used_at is not None:
            await self._reuse_detected(session, now)
        if token.expires_at <= now or session.expires_at <= now:
            raise InvalidTokenError("Refresh token expired")
        # Claim atomically: of two concurrent uses only one matches `used_at IS NULL`.
        claimed = await self.db.execute(
            update(RefreshToken)
            .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            await self._reuse_detected(session, now)
        session.last_used_at = now
        return await self._issue(session, now)

    async def get(self, session_id: uuid.UUID) -> SessionInfo | None:
        row = await self.db.get(AuthSession, session_id)
        return _info(row) if row is not None else None

    async def list_active(self, user_id: uuid.UUID) -> list[SessionInfo]:
        rows = await self.db.scalars(
            select(AuthSession)
            .where(
                AuthSession.user_id == user_id,
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > utcnow(),
            )
            .order_by(AuthSession.last_used_at.desc())
        )
        return [_info(row) for row in rows]

    async def revoke(self, session_id: uuid.UUID, *, reason: str) -> bool:
        result = await self.db.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason=reason)
            .execution_options(synchronize_session="fetch")
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def revoke_all(
        self, user_id: uuid.UUID, *, reason: str, keep: uuid.UUID | None = None
    ) -> int:
        statement = update(AuthSession).where(
            AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
        )
        if keep is not None:
            statement = statement.where(AuthSession.id != keep)
        result = await self.db.execute(
            statement.values(revoked_at=utcnow(), revoked_reason=reason).execution_options(
                synchronize_session="fetch"
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def _issue(self, session: AuthSession, now: datetime) -> IssuedRefresh:
        raw = new_secret()
        expires = refresh_expiry(self.settings, now, session.expires_at)
        self.db.add(
            RefreshToken(
                session_id=session.id,
                token_hash=hash_secret(raw),
                created_at=now,
                expires_at=expires,
            )
        )
        await self.db.flush()
        return IssuedRefresh(_info(session), raw, expires)

    async def _reuse_detected(self, session: AuthSession, now: datetime) -> None:
        session.revoked_at = now
        session.revoked_reason = "reuse_detected"
        # Commit before raising: the request's rollback must not undo the revocation.
        await self.db.commit()
        log.warning("refresh token reuse detected", session_id=str(session.id))
        raise RefreshReuseError()

    async def _prune(self, user_id: uuid.UUID, now: datetime) -> None:
        await self.db.execute(
            delete(AuthSession).where(
                AuthSession.user_id == user_id, AuthSession.expires_at < now - self.PRUNE_AFTER
            )
        )
