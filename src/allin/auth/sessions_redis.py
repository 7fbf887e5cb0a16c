"""The Redis session store (`ALLIN_SESSION_STORE=redis`): same contract as the database one.

Keys (under `{redis_key_prefix}:auth:`):
  session:{id}        hash: user_id, user_agent, ip, created/last_used/expires/revoked (epoch)
  refresh:{sha256}    hash: sid, expires_at, used ("0"/"1")
  user:{id}:sessions  set of session ids
Every key expires with its session. Rotation is one Lua script, so two concurrent uses of a
token cannot both succeed.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from allin.auth.errors import InvalidTokenError, RefreshReuseError
from allin.auth.sessions import IssuedRefresh, SessionInfo, clip, refresh_expiry
from allin.auth.tokens import hash_secret, new_secret
from allin.core.clock import utcnow
from allin.core.config import Settings
from allin.core.logging import Category, get_logger

log = get_logger(Category.AUTH)

# KEYS: old refresh key, new refresh key. ARGV: now, new token expiry, session key prefix.
_ROTATE = """
local sid = redis.call('HGET', KEYS[1], 'sid')
if not sid then return {'invalid', ''} end
local skey = ARGV[3] .. sid
local s = redis.call('HMGET', skey, 'revoked_at', 'expires_at', 'user_id')
if not s[3] then return {'invalid', sid} end
if s[1] and s[1] ~= '' then return {'revoked', sid} end
local now = tonumber(ARGV[1])
if redis.call('HGET', KEYS[1], 'used') == '1' then
  redis.call('HSET', skey, 'revoked_at', ARGV[1], 'revoked_reason', 'reuse_detected')
  return {'reuse', sid}
end
if tonumber(redis.call('HGET', KEYS[1], 'expires_at')) <= now or tonumber(s[2]) <= now then
  return {'expired', sid}
end
redis.call('HSET', KEYS[1], 'used', '1')
redis.call('HSET', KEYS[2], 'sid', sid, 'expires_at', ARGV[2], 'used', '0')
redis.call('EXPIREAT', KEYS[2], math.ceil(tonumber(s[2])))
redis.call('HSET', skey, 'last_used_at', ARGV[1])
return {'ok', sid}
"""


def _ts(value: datetime) -> str:
    return repr(value.timestamp())


def _dt(value: Any) -> datetime | None:
    if value in (None, b"", ""):
        return None
    return datetime.fromtimestamp(float(value), UTC)


def _str(value: Any) -> str | None:
    if value in (None, b"", ""):
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisSessionStore:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings
        base = f"{settings.redis_key_prefix}:auth:"
        self._session_prefix = base + "session:"
        self._refresh_prefix = base + "refresh:"
        self._user_prefix = base + "user:"
        self._rotate = redis.register_script(_ROTATE)

    async def create(
        self, user_id: uuid.UUID, *, user_agent: str | None, ip: str | None
    ) -> IssuedRefresh:
        now = utcnow()
        info = SessionInfo(
            id=uuid.uuid4(),
            user_id=user_id,
            user_agent=clip(user_agent, 512),
            ip=clip(ip, 64),
            created_at=now,
            last_used_at=now,
            expires_at=now + self.settings.session_max_age,
            revoked_at=None,
        )
        raw = new_secret()
        expires = refresh_expiry(self.settings, now, info.expires_at)
        session_key = self._session_prefix + str(info.id)
        user_key = f"{self._user_prefix}{user_id}:sessions"
        end = int(info.expires_at.timestamp()) + 1
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                session_key,
                mapping={
                    "user_id": str(user_id),
                    "user_agent": info.user_agent or "",
                    "ip": info.ip or "",
                    "created_at": _ts(now),
                    "last_used_at": _ts(now),
                    "expires_at": _ts(info.expires_at),
                    "revoked_at": "",
                },
            )
            pipe.expireat(session_key, end)
            self._put_refresh(pipe, raw, info.id, expires, end)
            pipe.sadd(user_key, str(info.id))
            pipe.expireat(user_key, end, gt=True)
            pipe.expireat(user_key, end, nx=True)
            await pipe.execute()
        return IssuedRefresh(info, raw, expires)

    async def rotate(self, refresh_token: str) -> IssuedRefresh:
        now = utcnow()
        raw = new_secret()
        # The new token's expiry is capped by the session's inside the script.
        wanted = now + self.settings.refresh_token_expires_in
        status, sid = await self._rotate(
            keys=[self._refresh_key(refresh_token), self._refresh_key(raw)],
            args=[_ts(now), _ts(wanted), self._session_prefix],
        )
        status, sid = _str(status), _str(sid)
        if status == "reuse":
            log.warning("refresh token reuse detected", session_id=sid)
            raise RefreshReuseError()
        if status == "revoked":
            raise InvalidTokenError("Session revoked")
        if status == "expired":
            raise InvalidTokenError("Refresh token expired")
        if status != "ok" or sid is None:
            raise InvalidTokenError("Refresh token invalid")
        info = await self.get(uuid.UUID(sid))
        if info is None:  # expired between the script and now
            raise InvalidTokenError("Refresh token invalid")
        return IssuedRefresh(info, raw, refresh_expiry(self.settings, now, info.expires_at))

    async def get(self, session_id: uuid.UUID) -> SessionInfo | None:
        data = await self.redis.hgetall(self._session_prefix + str(session_id))
        if not data:
            return None
        fields = {_str(k): v for k, v in data.items()}
        return SessionInfo(
            id=session_id,
            user_id=uuid.UUID(_str(fields["user_id"])),
            user_agent=_str(fields.get("user_agent")),
            ip=_str(fields.get("ip")),
            created_at=_dt(fields["created_at"]) or utcnow(),
            last_used_at=_dt(fields["last_used_at"]) or utcnow(),
            expires_at=_dt(fields["expires_at"]) or utcnow(),
            revoked_at=_dt(fields.get("revoked_at")),
        )

    async def list_active(self, user_id: uuid.UUID) -> list[SessionInfo]:
        user_key = f"{self._user_prefix}{user_id}:sessions"
        now = utcnow()
        active: list[SessionInfo] = []
        for member in await self.redis.smembers(user_key):
            sid = uuid.UUID(_str(member))
            info = await self.get(sid)
            if info is None:
                await self.redis.srem(user_key, str(sid))
            elif info.is_active(now):
                active.append(info)
        return sorted(active, key=lambda s: s.last_used_at, reverse=True)

    async def revoke(self, session_id: uuid.UUID, *, reason: str) -> bool:
        key = self._session_prefix + str(session_id)
        revoked = await self.redis.hget(key, "revoked_at")
        if revoked is None or _str(revoked) is not None:
            return False
        await self.redis.hset(key, mapping={"revoked_at": _ts(utcnow()), "revoked_reason": reason})
        return True

    async def revoke_all(
        self, user_id: uuid.UUID, *, reason: str, keep: uuid.UUID | None = None
    ) -> int:
        count = 0
        for info in await self.list_active(user_id):
            if info.id != keep and await self.revoke(info.id, reason=reason):
                count += 1
        return count

    def _refresh_key(self, raw: str) -> str:
        return self._refresh_prefix + hash_secret(raw)

    def _put_refresh(
        self, pipe: Any, raw: str, session_id: uuid.UUID, expires: datetime, end: int
    ) -> None:
        key = self._refresh_key(raw)
        pipe.hset(key, mapping={"sid": str(session_id), "expires_at": _ts(expires), "used": "0"})
        pipe.expireat(key, end)
