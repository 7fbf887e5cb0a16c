"""Per-account token management, independent of storage.

`get_valid_token` serves a cached token in microseconds (a dict lookup and one comparison),
refreshes ahead of expiry with a margin, and is single-flight: concurrent callers for the same
account share one refresh. Storage is a small Protocol; the store persists tokens encrypted
(`SealedToken`) so a database store only maps columns. Across workers, a refresh runs inside
the store's `locked(account)` (a row lock in PostgreSQL) and first re-reads the row, so a worker
that waited uses the tokens the first one stored instead of refreshing again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from allin.core.clock import utcnow
from allin.core.crypto import TokenCipher
from allin.core.logging import Category, get_logger
from allin.social.models import token_context
from allin.tiktok.errors import TikTokError, TikTokErrorType
from allin.tiktok.models import TokenSet

log = get_logger(Category.TIKTOK)
R = TypeVar("R")

Refresher = Callable[[str], Awaitable[TokenSet]]


@dataclass(frozen=True, slots=True)
class StoredToken:
    """One account's tokens in clear (only ever in memory)."""

    account_id: str
    access_token: str
    expires_at: datetime
    refresh_token: str | None = None
    refresh_expires_at: datetime | None = None
    open_id: str | None = None
    scopes: tuple[str, ...] = ()
    token_type: str = "Bearer"  # noqa: S105 - a scheme name
    issued_at: datetime | None = None
    refreshed_at: datetime | None = None

    @classmethod
    def from_token_set(
        cls, account_id: str, tokens: TokenSet, previous: StoredToken | None = None
    ) -> StoredToken:
        # TikTok may omit or rotate the refresh token: keep the newest one we have.
        keep_old = previous is not None and not tokens.refresh_token
        return cls(
            account_id=account_id,
            access_token=tokens.access_token,
            expires_at=tokens.expires_at,
            refresh_token=tokens.refresh_token or (previous.refresh_token if previous else None),
            refresh_expires_at=tokens.refresh_expires_at
            or (previous.refresh_expires_at if keep_old and previous else None),
            open_id=tokens.open_id or (previous.open_id if previous else None),
            scopes=tuple(tokens.scope) or (previous.scopes if previous else ()),
            token_type=tokens.token_type,
            issued_at=tokens.issued_at,
            refreshed_at=tokens.issued_at if previous is not None else None,
        )


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """Seed 001's getTokenInfo, without the secret itself."""

    account_id: str
    token_type: str
    open_id: str | None
    scopes: tuple[str, ...]
    expires_at: datetime
    refresh_expires_at: datetime | None
    refreshed_at: datetime | None


@dataclass(frozen=True, slots=True)
class SealedToken:
    """A StoredToken as persisted: both secrets encrypted (crypto.TokenCipher) and bound to
    the account they belong to (`bound`; tokens sealed before that are bound to the key only)."""

    account_id: str
    access_token_enc: str
    expires_at: datetime
    refresh_token_enc: str | None
    refresh_expires_at: datetime | None
    open_id: str | None
    scopes: tuple[str, ...]
    token_type: str
    issued_at: datetime | None
    refreshed_at: datetime | None
    bound: bool = True

    @property
    def context(self) -> bytes:
        return token_context(self.account_id) if self.bound else b""

    @classmethod
    def seal(cls, token: StoredToken, cipher: TokenCipher) -> SealedToken:
        context = token_context(token.account_id)
        return cls(
            account_id=token.account_id,
            access_token_enc=cipher.encrypt(token.access_token, context),
            expires_at=token.expires_at,
            refresh_token_enc=cipher.encrypt(token.refresh_token, context)
            if token.refresh_token
            else None,
            refresh_expires_at=token.refresh_expires_at,
            open_id=token.open_id,
            scopes=token.scopes,
            token_type=token.token_type,
            issued_at=token.issued_at,
            refreshed_at=token.refreshed_at,
        )

    def unseal(self, cipher: TokenCipher) -> StoredToken:
        context = self.context
        return StoredToken(
            account_id=self.account_id,
            access_token=cipher.decrypt(self.access_token_enc, context),
            expires_at=self.expires_at,
            refresh_token=cipher.decrypt(self.refresh_token_enc, context)
            if self.refresh_token_enc
            else None,
            refresh_expires_at=self.refresh_expires_at,
            open_id=self.open_id,
            scopes=self.scopes,
            token_type=self.token_type,
            issued_at=self.issued_at,
            refreshed_at=self.refreshed_at,
        )

    def rotated(self, cipher: TokenCipher) -> SealedToken:
        """Re-encrypted under the newest key and bound to the account (the key-rotation
        command calls this per row)."""
        if not self.bound:
            return SealedToken.seal(self.unseal(cipher), cipher)
        return replace(
            self,
            access_token_enc=cipher.rotate(self.access_token_enc, self.context),
            refresh_token_enc=cipher.rotate(self.refresh_token_enc, self.context)
            if self.refresh_token_enc
            else None,
        )


class TokenRow(Protocol):
    """One account's tokens read under the store's refresh lock; writes keep the lock's
    transaction (a second connection would wait on our own row lock)."""

    @property
    def current(self) -> SealedToken | None: ...

    async def save(self, token: SealedToken) -> None: ...

    async def delete(self) -> None: ...


class TokenStore(Protocol):
    async def load(self, account_id: str) -> SealedToken | None: ...

    async def save(self, token: SealedToken) -> None: ...

    async def delete(self, account_id: str) -> None: ...

    async def account_for_open_id(self, open_id: str) -> str | None: ...

    def locked(self, account_id: str) -> AbstractAsyncContextManager[TokenRow]:
        """Held around a refresh: at most one refresh per account across workers."""
        ...


@dataclass(slots=True)
class _UnlockedRow:
    store: TokenStore
    account_id: str
    current: SealedToken | None

    async def save(self, token: SealedToken) -> None:
        await self.store.save(token)
        self.current = token

    async def delete(self) -> None:
        await self.store.delete(self.account_id)
        self.current = None


@asynccontextmanager
async def unlocked(store: TokenStore, account_id: str) -> AsyncIterator[TokenRow]:
    """`locked` for single-process stores (memory, the CLI's file): the manager's own
    single-flight already serialises refreshes there."""
    yield _UnlockedRow(store, account_id, await store.load(account_id))


class InMemoryTokenStore:
    """For tests and the CLI; holds sealed tokens exactly as a database would."""

    def __init__(self) -> None:
        self.rows: dict[str, SealedToken] = {}
        self.loads = 0

    async def load(self, account_id: str) -> SealedToken | None:
        self.loads += 1
        return self.rows.get(account_id)

    async def save(self, token: SealedToken) -> None:
        self.rows[token.account_id] = token

    async def delete(self, account_id: str) -> None:
        self.rows.pop(account_id, None)

    async def account_for_open_id(self, open_id: str) -> str | None:
        return next((r.account_id for r in self.rows.values() if r.open_id == open_id), None)

    def locked(self, account_id: str) -> AbstractAsyncContextManager[TokenRow]:
        return unlocked(self, account_id)


class TokenManager:
    def __init__(
        self,
        store: TokenStore,
        cipher: TokenCipher,
        refresher: Refresher,
        *,
        refresh_margin: float = 600.0,
    ) -> None:
        self.store = store
        self.cipher = cipher
        self.refresher = refresher
        self.refresh_margin = refresh_margin
        self._cache: dict[str, tuple[StoredToken, datetime]] = {}
        self._inflight: dict[str, asyncio.Task[StoredToken]] = {}

    async def store_tokens(self, account_id: str, tokens: TokenSet) -> StoredToken:
        """Keep a new grant (from exchange_code or refresh)."""
        previous = await self._load(account_id)
        stored = StoredToken.from_token_set(account_id, tokens, previous)
        await self._save(stored)
        return stored

    async def get_valid_token(self, account_id: str) -> str:
        cached = self._cache.get(account_id)
        if cached is not None and utcnow() < cached[1]:
            return cached[0].access_token
        return (await self._slow_path(account_id)).access_token

    async def token_info(self, account_id: str) -> TokenInfo | None:
        token = await self._load(account_id)
        if token is None:
            return None
        return TokenInfo(
            account_id=token.account_id,
            token_type=token.token_type,
            open_id=token.open_id,
            scopes=token.scopes,
            expires_at=token.expires_at,
            refresh_expires_at=token.refresh_expires_at,
            refreshed_at=token.refreshed_at,
        )

    async def clear_token(self, account_id: str) -> None:
        self._cache.pop(account_id, None)
        await self.store.delete(account_id)

    async def force_refresh(self, account_id: str, rejected: str | None = None) -> str:
        """Refresh now (TikTok said access_token_invalid), sharing any refresh in flight."""
        cached = self._cache.get(account_id)
        if cached is not None and rejected is not None and cached[0].access_token != rejected:
            return cached[0].access_token  # someone already replaced the rejected token
        self._cache.pop(account_id, None)
        token = await self._load(account_id)
        if token is None:
            raise TikTokError("access_token_invalid", f"no TikTok tokens for {account_id}")
        return (await self._single_flight(account_id, token)).access_token

    async def call_with_token(self, account_id: str, call: Callable[[str], Awaitable[R]]) -> R:
        """Run `call(token)`; on access_token_invalid refresh once and run it again."""
        token = await self.get_valid_token(account_id)
        try:
            return await call(token)
        except TikTokError as error:
            if error.type is not TikTokErrorType.INVALID_TOKEN:
                raise
        return await call(await self.force_refresh(account_id, rejected=token))

    # --- internals ---

    async def _slow_path(self, account_id: str) -> StoredToken:
        token = await self._load(account_id)
        if token is None:
            raise TikTokError("access_token_invalid", f"no TikTok tokens for {account_id}")
        if utcnow() < self._refresh_due(token):
            self._cache[account_id] = (token, self._refresh_due(token))
            return token
        return await self._single_flight(account_id, token)

    async def _single_flight(self, account_id: str, token: StoredToken) -> StoredToken:
        task = self._inflight.get(account_id)
        if task is None:
            task = asyncio.create_task(self._refresh(token))
            self._inflight[account_id] = task
            task.add_done_callback(lambda _: self._inflight.pop(account_id, None))
        # shield: one caller being cancelled must not cancel the refresh the others await
        return await asyncio.shield(task)

    async def _refresh(self, token: StoredToken) -> StoredToken:
        async with self.store.locked(token.account_id) as row:
            current = row.current.unseal(self.cipher) if row.current else None
            if current is None:
                self._cache.pop(token.account_id, None)
                raise TikTokError("access_token_invalid", "TikTok account disconnected")
            replaced = current.access_token != token.access_token
            if replaced and utcnow() < self._refresh_due(current):
                # Another worker refreshed while we waited for the lock: use its tokens.
                self._cache[current.account_id] = (current, self._refresh_due(current))
                return current
            return await self._refresh_locked(current, row)

    async def _refresh_locked(self, token: StoredToken, row: TokenRow) -> StoredToken:
        now = utcnow()
        if not token.refresh_token or (
            token.refresh_expires_at and now >= token.refresh_expires_at
        ):
            await self._forget(row, token.account_id)
            raise TikTokError("access_token_expired", "refresh token missing or expired")
        try:
            tokens = await self.refresher(token.refresh_token)
        except TikTokError as error:
            if error.type is TikTokErrorType.TOKEN_EXPIRED:  # invalid_grant
                latest = await self._load(token.account_id)
                if latest is not None and latest.refresh_token != token.refresh_token:
                    # Another worker refreshed (and rotated) first: theirs is the live pair.
                    self._cache[latest.account_id] = (latest, self._refresh_due(latest))
                    return latest
                log.warning("tiktok refresh rejected; disconnecting", account_id=token.account_id)
                await self._forget(row, token.account_id)
                raise
            if now < token.expires_at:
                # TikTok is unwell but the old token still works: use it, refresh later.
                log.warning("tiktok refresh failed; using current token", code=error.code)
                return token
            raise
        stored = StoredToken.from_token_set(token.account_id, tokens, token)
        await row.save(SealedToken.seal(stored, self.cipher))
        self._cache[stored.account_id] = (stored, self._refresh_due(stored))
        log.info(
            "tiktok token refreshed", account_id=token.account_id, expires_at=stored.expires_at
        )
        return stored

    async def _forget(self, row: TokenRow, account_id: str) -> None:
        self._cache.pop(account_id, None)
        await row.delete()

    def _refresh_due(self, token: StoredToken) -> datetime:
        lifetime = (token.expires_at - token.issued_at).total_seconds() if token.issued_at else 0
        # A margin never larger than half the lifetime, or short-lived tokens refresh forever.
        margin = min(self.refresh_margin, lifetime / 2) if lifetime > 0 else self.refresh_margin
        return token.expires_at - timedelta(seconds=margin)

    async def _load(self, account_id: str) -> StoredToken | None:
        sealed = await self.store.load(account_id)
        return sealed.unseal(self.cipher) if sealed else None

    async def _save(self, token: StoredToken) -> None:
        await self.store.save(SealedToken.seal(token, self.cipher))
        self._cache[token.account_id] = (token, self._refresh_due(token))
