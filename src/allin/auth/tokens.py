"""Access tokens (JWT, HS256 pinned) and opaque secrets (refresh, email links, API keys).

The JWT key is derived from the instance secret with HMAC, so it is never the raw secret and
other uses of that secret cannot be confused with it. Opaque secrets are 256-bit random and
stored only as SHA-256 digests: with that much entropy a fast hash is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from allin.auth.errors import InvalidTokenError
from allin.core.clock import utcnow
from allin.core.config import Settings

ALGORITHM = "HS256"
ACCESS_TOKEN_USE = "access"  # noqa: S105
_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti", "sid"]
_LEEWAY_SECONDS = 5


def new_secret() -> str:
    """A URL-safe random token with 256 bits of entropy."""
    return secrets.token_urlsafe(32)


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def jwt_key(settings: Settings) -> bytes:
    secret = settings.resolved_secret_key().get_secret_value().encode("utf-8")
    return hmac.new(secret, b"allin/jwt-access/v1", hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    jti: str
    issued_at: datetime
    expires_at: datetime


def create_access_token(
    settings: Settings, user_id: uuid.UUID, session_id: uuid.UUID
) -> tuple[str, datetime]:
    """A JWT for `user_id`, bound to login session `session_id` (revoking the session
    revokes the token)."""
    now = utcnow()
    expires = now + settings.jwt_expires_in
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": uuid.uuid4().hex,
        "token_use": ACCESS_TOKEN_USE,  # ASVS 9.2.2: not a refresh or link token
        "sid": str(session_id),
    }
    token = jwt.encode(claims, jwt_key(settings), algorithm=ALGORITHM, headers={"typ": "JWT"})
    return token, expires


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    """Verify signature, algorithm, issuer, audience and expiry; raise AUTH_004 otherwise."""
    try:
        claims = jwt.decode(
            token,
            jwt_key(settings),
            algorithms=[ALGORITHM],  # pinned: "none", HS512, RS256... are refused
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=_LEEWAY_SECONDS,
            options={"require": _REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidTokenError("Access token expired") from None
    except jwt.PyJWTError:
        raise InvalidTokenError("Access token invalid") from None
    if claims.get("token_use") != ACCESS_TOKEN_USE:
        raise InvalidTokenError("Not an access token")
    try:
        user_id = uuid.UUID(str(claims["sub"]))
        session_id = uuid.UUID(str(claims["sid"]))
    except ValueError:
        raise InvalidTokenError("Access token invalid") from None
    return AccessClaims(
        user_id=user_id,
        session_id=session_id,
        jti=str(claims["jti"]),
        issued_at=_from_epoch(claims["iat"]),
        expires_at=_from_epoch(claims["exp"]),
    )


def _from_epoch(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), UTC)


def seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())
