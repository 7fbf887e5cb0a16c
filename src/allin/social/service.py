"""Connected social accounts: connecting (OAuth with a single-use state bound to the user and
the browser, PKCE where the platform takes it), keeping tokens alive (single-flight refresh,
rotated tokens stored before use), and forgetting (revoke at the platform, then delete).

Rules the whole module keeps:
- only the platform's recognised auth errors (`ErrorKind.AUTH`) mark an account dead; a
  transient failure is recorded as the last error and the account stays ACTIVE;
- nothing is written until the platform answered: a failed exchange leaves no account;
- a refresh token is never replaced by an empty one;
- tokens and codes never reach a log line; the platform's own error words do, with the
  correlation ID bound by the logging context.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, TypeVar

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from allin.auth.email import EmailBackend
from allin.auth.models import User
from allin.core.clock import utcnow
from allin.core.config import Settings
from allin.core.crypto import CryptoError, TokenCipher
from allin.core.errors import ValidationError
from allin.core.logging import Category, bind_correlation_id, get_logger, new_correlation_id
from allin.core.oauth_binding import digest
from allin.social.errors import (
    AccountNotFoundError,
    ConsentDeniedError,
    NoAccountGrantedError,
    OAuthStateError,
    ReconnectRequiredError,
)
from allin.social.models import (
    AccountStatus,
    SocialAccount,
    SocialOAuthAttempt,
    TokenBinding,
    token_context,
)
from allin.social.providers.base import (
    AccountCredentials,
    ErrorKind,
    Identity,
    Platform,
    SocialProvider,
    SocialProviderError,
    TokenSet,
)
from allin.social.registry import ProviderRegistry

log = get_logger(Category.SOCIAL)
Sessions = async_sessionmaker[AsyncSession]
R = TypeVar("R")

_VERIFIER_CONTEXT = b"social_oauth_attempts:"
# Facebook Pages and Instagram share one Meta app and Facebook Login: a deployment may register
# one redirect URI for both, so either callback may finish either's attempt.
_META = frozenset({Platform.FACEBOOK.value, Platform.INSTAGRAM.value})


def renewable(row: SocialAccount, provider: SocialProvider) -> bool:
    """Whether the platform can renew this account's token without the user: with a refresh
    token, or (Meta) by exchanging a still-valid long-lived token for a new one."""
    if not provider.can_refresh:
        return False
    return row.refresh_token_enc is not None or row.platform in _META


def _logins(platform: Platform) -> frozenset[str]:
    return _META if platform.value in _META else frozenset({platform.value})


@dataclass(slots=True)
class PlatformHealth:
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    state: str
    user_id: uuid.UUID
    platform: Platform
    code_verifier: str | None
    binding_digest: str | None
    return_url: str | None


@dataclass(slots=True)
class RefreshReport:
    refreshed: list[uuid.UUID] = field(default_factory=list)
    failed: list[tuple[uuid.UUID, str, str]] = field(default_factory=list)
    """(account, error code, message)"""


@dataclass(frozen=True, slots=True)
class LifecycleReport:
    reminded: int
    expired: int


class SocialAccountsService:
    def __init__(
        self,
        settings: Settings,
        sessions: Sessions,
        registry: ProviderRegistry,
        cipher: TokenCipher,
        mailer: EmailBackend | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.registry = registry
        self.cipher = cipher
        self.mailer = mailer
        self.state_ttl = settings.social_state_ttl
        self.refresh_margin = settings.social_refresh_margin
        self.health: dict[Platform, PlatformHealth] = {p: PlatformHealth() for p in Platform}
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}
        self._inflight: dict[uuid.UUID, asyncio.Task[SocialAccount]] = {}

    async def aclose(self) -> None:
        for task in list(self._inflight.values()):
            task.cancel()
        await self.registry.aclose()

    # --- calling a platform ---

    async def _call(self, platform: Platform, call: Callable[[], Awaitable[R]]) -> R:
        """Runs one provider call, keeping the platform's last success and failure."""
        health = self.health[platform]
        try:
            result = await call()
        except SocialProviderError as error:
            health.last_failure_at = utcnow()
            health.last_error = f"{error.kind.value}: {error.platform_message or error.message}"
            log.warning(
                "social platform call failed",
                platform=platform.value,
                kind=error.kind.value,
                platform_code=error.platform_code,
                platform_message=error.platform_message,
                http_status=error.http_status,
            )
            raise
        health.last_success_at = utcnow()
        return result

    # --- connecting ---

    async def start_connect(
        self,
        user_id: uuid.UUID,
        platform: Platform,
        *,
        binding_digest: str | None,
        return_url: str | None = None,
    ) -> str:
        """The platform's consent URL. The state (32 random bytes) is stored only as a digest,
        bound to the user and the browser, usable once, for `social_state_ttl`."""
        provider = self.registry.get(platform)
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(48) if provider.uses_pkce else None  # 64 chars
        challenge = provider.code_challenge(verifier) if verifier else None
        url = provider.authorization_url(state, challenge)
        state_digest = digest(state)
        now = utcnow()
        async with self.sessions() as db:
            await db.execute(delete(SocialOAuthAttempt).where(SocialOAuthAttempt.expires_at < now))
            db.add(
                SocialOAuthAttempt(
                    state_digest=state_digest,
                    user_id=user_id,
                    platform=platform.value,
                    code_verifier_enc=self.cipher.encrypt(
                        verifier, _VERIFIER_CONTEXT + state_digest.encode()
                    )
                    if verifier
                    else None,
                    binding_digest=binding_digest,
                    return_url=return_url,
                    created_at=now,
                    expires_at=now + self.state_ttl,
                )
            )
            await db.commit()
        log.info("social connect started", platform=platform.value, user_id=str(user_id))
        return url

    async def peek_attempt(self, platform: Platform, state: str | None) -> Attempt:
        """The unused, unexpired attempt for this state (not consumed), else SOCIAL_006."""
        if not state:
            raise OAuthStateError()
        async with self.sessions() as db:
            row = await db.get(SocialOAuthAttempt, digest(state))
        if (
            row is None
            or row.platform not in _logins(platform)
            or row.used_at is not None
            or row.expires_at <= utcnow()
        ):
            raise OAuthStateError()
        return self._attempt(state, row)

    async def consume_attempt(self, platform: Platform, state: str | None) -> Attempt:
        """Marks the attempt used, atomically: of two callbacks with one state, one wins."""
        if not state:
            raise OAuthStateError()
        now = utcnow()
        async with self.sessions() as db:
            result = await db.execute(
                update(SocialOAuthAttempt)
                .where(
                    SocialOAuthAttempt.state_digest == digest(state),
                    SocialOAuthAttempt.platform.in_(_logins(platform)),
                    SocialOAuthAttempt.used_at.is_(None),
                    SocialOAuthAttempt.expires_at > now,
                )
                .values(used_at=now)
                .returning(SocialOAuthAttempt)
            )
            row = result.scalar_one_or_none()
            await db.commit()
        if row is None:
            raise OAuthStateError()
        return self._attempt(state, row)

    def _attempt(self, state: str, row: SocialOAuthAttempt) -> Attempt:
        verifier = None
        if row.code_verifier_enc:
            verifier = self.cipher.decrypt(
                row.code_verifier_enc, _VERIFIER_CONTEXT + row.state_digest.encode()
            )
        return Attempt(
            state=state,
            user_id=row.user_id,
            platform=Platform(row.platform),
            code_verifier=verifier,
            binding_digest=row.binding_digest,
            return_url=row.return_url,
        )

    async def finish_connect(
        self,
        attempt: Attempt,
        *,
        code: str | None,
        error: str | None = None,
        error_description: str | None = None,
    ) -> list[SocialAccount]:
        """Exchange the code, learn who the token acts as, then store every account at once."""
        platform = attempt.platform
        if error or not code:
            log.info(
                "social consent not granted",
                platform=platform.value,
                error=error,
                description=error_description,
            )
            raise ConsentDeniedError(
                details={"platform": platform.value, "error": error or "no_code"}
            )
        provider = self.registry.get(platform)
        tokens = await self._call(
            platform, lambda: provider.exchange_code(code, attempt.code_verifier)
        )
        identities = await self._call(platform, lambda: provider.identities(tokens))
        if not identities:
            raise NoAccountGrantedError(details={"platform": platform.value})
        accounts = await self._store_identities(attempt.user_id, platform, tokens, identities)
        log.info(
            "social account connected",
            platform=platform.value,
            user_id=str(attempt.user_id),
            accounts=[str(a.id) for a in accounts],
        )
        return accounts

    async def _store_identities(
        self,
        owner: uuid.UUID,
        platform: Platform,
        login: TokenSet,
        identities: Sequence[Identity],
    ) -> list[SocialAccount]:
        now = utcnow()
        async with self.sessions() as db:
            rows = []
            for identity in identities:
                row = await db.scalar(
                    select(SocialAccount).where(
                        SocialAccount.owner_id == owner,
                        SocialAccount.platform == platform.value,
                        SocialAccount.platform_user_id == identity.platform_user_id,
                    )
                )
                if row is None:
                    row = SocialAccount(
                        id=uuid.uuid4(),
                        owner_id=owner,
                        platform=platform.value,
                        platform_user_id=identity.platform_user_id,
                        connected_at=now,
                        extra={},
                    )
                    db.add(row)
                row.username = identity.username or row.username
                row.display_name = identity.display_name or row.display_name
                row.avatar_url = identity.avatar_url or row.avatar_url
                row.extra = {**(row.extra or {}), **dict(identity.extra)}
                self._put_tokens(row, identity.token or login, now, fresh_grant=True)
                rows.append(row)
            await db.commit()  # every account of this login, or none
            for row in rows:
                await db.refresh(row)
            return rows

    def _put_tokens(
        self, row: SocialAccount, tokens: TokenSet, now: datetime, *, fresh_grant: bool
    ) -> None:
        """Seal the tokens to the row. An empty refresh token keeps the one we have."""
        context = token_context(row.id)
        if row.token_binding != TokenBinding.ROW and row.refresh_token_enc:
            # Re-bind a moved row's refresh token before anything else is written beside it.
            row.refresh_token_enc = self._reseal(row, row.refresh_token_enc)
        row.access_token_enc = self.cipher.encrypt(tokens.access_token, context)
        if tokens.refresh_token:
            row.refresh_token_enc = self.cipher.encrypt(tokens.refresh_token, context)
            row.refresh_expires_at = tokens.refresh_expires_at
        elif tokens.refresh_expires_at is not None:
            row.refresh_expires_at = tokens.refresh_expires_at
        row.token_binding = TokenBinding.ROW
        row.token_expires_at = tokens.expires_at
        if tokens.scopes:
            row.scopes = sorted(tokens.scopes)
        token_type = tokens.raw.get("token_type")
        if isinstance(token_type, str) and token_type:
            row.token_type = token_type[:32]
        row.token_issued_at = now
        if not fresh_grant:
            row.token_refreshed_at = now
        row.status = AccountStatus.ACTIVE
        row.status_reason = None
        row.reconnect_fixes = False
        row.last_error = None
        row.last_sync_at = now
        row.expiry_reminder_sent_at = None
        row.updated_at = now

    def _reseal(self, row: SocialAccount, sealed: str) -> str:
        return self.cipher.encrypt(self._open(row, sealed), token_context(row.id))

    def _open(self, row: SocialAccount, sealed: str) -> str:
        context = token_context(row.id) if row.token_binding == TokenBinding.ROW else b""
        return self.cipher.decrypt(sealed, context)

    def token_set(self, row: SocialAccount) -> TokenSet:
        """The row's tokens in clear (memory only)."""
        if row.access_token_enc is None:
            raise ReconnectRequiredError(
                "This account has no usable token: reconnect it", details=_about(row)
            )
        refresh = self._open(row, row.refresh_token_enc) if row.refresh_token_enc else None
        return TokenSet(
            access_token=self._open(row, row.access_token_enc),
            refresh_token=refresh,
            expires_at=row.token_expires_at,
            refresh_expires_at=row.refresh_expires_at,
            scopes=frozenset(row.scopes or ()),
        )

    # --- reading ---

    async def list_accounts(self, owner: uuid.UUID) -> list[SocialAccount]:
        async with self.sessions() as db:
            rows = await db.scalars(
                select(SocialAccount)
                .where(SocialAccount.owner_id == owner)
                .order_by(SocialAccount.platform, SocialAccount.connected_at)
            )
            return list(rows)

    async def get_account(
        self, account_id: uuid.UUID, owner: uuid.UUID | None = None
    ) -> SocialAccount:
        """The account (its owner's only, when `owner` is given); SOCIAL_010 otherwise."""
        async with self.sessions() as db:
            row = await db.get(SocialAccount, account_id)
        if row is None or (owner is not None and row.owner_id != owner):
            raise AccountNotFoundError()
        return row

    def can_refresh(self, row: SocialAccount) -> bool:
        platform = Platform(row.platform)
        if not self.registry.configured(platform):
            return False
        return renewable(row, self.registry.get(platform))

    # --- refreshing ---

    def refresh_due(self, row: SocialAccount, now: datetime | None = None) -> bool:
        if row.token_expires_at is None:
            return False
        now = now or utcnow()
        margin = self.refresh_margin
        if row.token_issued_at is not None:
            lifetime = row.token_expires_at - row.token_issued_at
            if lifetime > timedelta(0):
                margin = min(margin, lifetime / 2)  # short-lived tokens must not loop
        return now >= row.token_expires_at - margin

    async def refresh_account(self, account_id: uuid.UUID, *, force: bool = True) -> SocialAccount:
        """Refresh now (`force`) or only when due. One refresh per account at a time: callers
        arriving meanwhile share its outcome."""
        task = self._inflight.get(account_id)
        if task is None:
            task = asyncio.create_task(self._refresh(account_id, force))
            self._inflight[account_id] = task
            task.add_done_callback(lambda _: self._inflight.pop(account_id, None))
        # shield: one caller giving up must not cancel the refresh the others wait for
        return await asyncio.shield(task)

    @asynccontextmanager
    async def _locked_row(
        self, account_id: uuid.UUID
    ) -> AsyncIterator[tuple[AsyncSession, SocialAccount | None]]:
        """The row under this process's lock and, on PostgreSQL, a row lock (other workers)."""
        lock = self._locks.setdefault(account_id, asyncio.Lock())
        async with lock, self.sessions() as db:
            row = await db.scalar(
                select(SocialAccount).where(SocialAccount.id == account_id).with_for_update()
            )
            yield db, row
            await db.commit()

    async def _refresh(self, account_id: uuid.UUID, force: bool) -> SocialAccount:
        async with self._locked_row(account_id) as (db, row):
            if row is None:
                raise AccountNotFoundError()
            if not force and not self.refresh_due(row) and row.status == AccountStatus.ACTIVE:
                return row  # someone refreshed while we waited
            platform = Platform(row.platform)
            provider = self.registry.get(platform)
            if row.token_expires_at is None and row.status == AccountStatus.ACTIVE:
                return row  # a token that does not expire (a Facebook Page's): nothing to renew
            if not renewable(row, provider):
                await self._cannot_refresh(db, row)
            current = self.token_set(row)
            try:
                tokens = await self._call(platform, lambda: provider.refresh(current))
            except SocialProviderError as error:
                await self._refresh_failed(db, row, error)
                raise
            self._put_tokens(row, tokens, utcnow(), fresh_grant=False)
            await db.commit()  # durable before anyone uses the new (rotated) tokens
            await db.refresh(row)
            log.info("social token refreshed", platform=platform.value, account_id=str(row.id))
            return row

    async def _cannot_refresh(self, db: AsyncSession, row: SocialAccount) -> None:
        now = utcnow()
        expired = row.token_expires_at is not None and row.token_expires_at <= now
        if expired and row.status == AccountStatus.ACTIVE:
            _mark(row, AccountStatus.EXPIRED, _expired_reason(row), now)
            await db.commit()
        until = row.token_expires_at.isoformat() if row.token_expires_at else None
        raise ReconnectRequiredError(
            "This platform does not renew access: reconnect the account"
            + (f" before {until}" if until and not expired else ""),
            details=_about(row),
        )

    async def _refresh_failed(
        self, db: AsyncSession, row: SocialAccount, error: SocialProviderError
    ) -> None:
        now = utcnow()
        words = error.platform_message or error.message
        if error.kind is ErrorKind.AUTH:
            if await self._replaced_meanwhile(row):
                return  # another worker rotated first; its pair is live
            expired = row.token_expires_at is not None and row.token_expires_at <= now
            status = AccountStatus.EXPIRED if expired else AccountStatus.REVOKED
            _mark(row, status, f"The platform refused the account's tokens: {words}", now)
        else:
            row.last_error = f"Refreshing failed, will retry: {words}"
            row.last_error_at = now
        await db.commit()

    async def _replaced_meanwhile(self, row: SocialAccount) -> bool:
        """Whether the stored tokens differ from the ones just refused (a refresh through
        another path, e.g. the TikTok routes, rotated them meanwhile)."""
        async with self.sessions() as other:
            stored = (
                await other.execute(
                    select(SocialAccount.access_token_enc, SocialAccount.refresh_token_enc).where(
                        SocialAccount.id == row.id
                    )
                )
            ).first()
        if stored is None or stored.access_token_enc is None:
            return False
        return (stored.access_token_enc, stored.refresh_token_enc) != (
            row.access_token_enc,
            row.refresh_token_enc,
        )

    async def refresh_expiring(self, within: timedelta) -> RefreshReport:
        """Refresh every refreshable account that expires within `within` (or has expired but
        still holds a refresh token). One account's failure does not stop the others."""
        horizon = utcnow() + within
        async with self.sessions() as db:
            ids = list(
                await db.scalars(
                    select(SocialAccount.id).where(
                        SocialAccount.status.in_([AccountStatus.ACTIVE, AccountStatus.EXPIRED]),
                        or_(
                            SocialAccount.refresh_token_enc.is_not(None),
                            SocialAccount.platform.in_(_META),
                        ),
                        SocialAccount.token_expires_at <= horizon,
                    )
                )
            )
        report = RefreshReport()
        for account_id in ids:
            row = await self.get_account(account_id)
            platform = Platform(row.platform)
            if not self.registry.configured(platform):
                continue
            if not self.registry.get(platform).can_refresh:
                continue
            try:
                await self.refresh_account(account_id, force=True)
            except (SocialProviderError, ReconnectRequiredError) as error:
                report.failed.append((account_id, error.code, error.message))
            except CryptoError:
                log.error("social tokens unreadable", account_id=str(account_id))
                report.failed.append((account_id, "SOCIAL_011", "Stored tokens are unreadable"))
            else:
                report.refreshed.append(account_id)
        return report

    # --- what the publishing queue uses ---

    async def credentials(self, account_id: uuid.UUID) -> tuple[AccountCredentials, SocialProvider]:
        """A usable token for the account and its platform's provider. Refreshes first when
        the token is (nearly) expired; if the platform is only unwell and the current token
        still works, that one is used."""
        row = await self.get_account(account_id)
        if row.status != AccountStatus.ACTIVE:
            raise ReconnectRequiredError(row.status_reason, details=_about(row))
        provider = self.registry.get(Platform(row.platform))
        if self.refresh_due(row):
            row = await self._refresh_before_use(row, provider)
        tokens = self.token_set(row)
        credentials = AccountCredentials(
            platform_user_id=row.platform_user_id,
            access_token=tokens.access_token,
            extra=dict(row.extra or {}),
        )
        return credentials, provider

    async def _refresh_before_use(
        self, row: SocialAccount, provider: SocialProvider
    ) -> SocialAccount:
        still_valid = row.token_expires_at is not None and utcnow() < row.token_expires_at
        if not renewable(row, provider):
            if still_valid:
                return row
            return await self.refresh_account(row.id, force=False)  # raises, marks EXPIRED
        try:
            return await self.refresh_account(row.id, force=False)
        except SocialProviderError as error:
            if error.kind is not ErrorKind.AUTH and still_valid:
                return row
            raise

    async def creator_info(self, account_id: uuid.UUID) -> dict[str, object]:
        """The platform's description of what this creator may post (TikTok's creator_info:
        TikTok requires a Direct Post screen to ask it before every post)."""
        credentials, provider = await self.credentials(account_id)
        query = getattr(provider, "creator_info", None)
        if query is None:
            raise ValidationError("Only TikTok accounts have creator info")
        platform = Platform((await self.get_account(account_id)).platform)
        info: dict[str, object] = await self._call(platform, lambda: query(credentials))
        return info

    async def mark_needs_reconnect(
        self, account_id: uuid.UUID, error: SocialProviderError | str
    ) -> None:
        """A platform refused the account's token while acting for it (publish, read)."""
        words = error if isinstance(error, str) else (error.platform_message or error.message)
        async with self._locked_row(account_id) as (_, row):
            if row is not None:
                _mark(row, AccountStatus.REVOKED, f"The platform refused the token: {words}")
        log.info("social account needs reconnect", account_id=str(account_id))

    # --- forgetting ---

    async def disconnect(self, account_id: uuid.UUID) -> bool:
        """Revoke at the platform (best effort), then delete the row. True when revoked."""
        row = await self.get_account(account_id)
        platform = Platform(row.platform)
        revoked = False
        if self.registry.configured(platform) and row.access_token_enc:
            provider = self.registry.get(platform)
            try:
                tokens = self.token_set(row)
                await self._call(platform, lambda: provider.revoke(tokens))
                revoked = True
            except (SocialProviderError, CryptoError) as error:
                log.info("social disconnect without revoke", reason=type(error).__name__)
        async with self.sessions() as db:
            await db.execute(delete(SocialAccount).where(SocialAccount.id == account_id))
            await db.commit()
        log.info("social account disconnected", platform=platform.value, revoked=revoked)
        return revoked

    # --- accounts that cannot refresh (LinkedIn) ---

    async def remind_and_expire(self) -> LifecycleReport:
        """Mail a reminder before a non-renewable token expires; mark it EXPIRED on the day."""
        now = utcnow()
        reminded = expired = 0
        async with self.sessions() as db:
            rows = list(
                await db.scalars(
                    select(SocialAccount).where(
                        SocialAccount.status == AccountStatus.ACTIVE,
                        SocialAccount.token_expires_at.is_not(None),
                        SocialAccount.token_expires_at
                        <= now + self.settings.social_expiry_reminder,
                    )
                )
            )
            for row in rows:
                if not self.registry.configured(Platform(row.platform)) or self.can_refresh(row):
                    continue
                assert row.token_expires_at is not None
                if row.token_expires_at <= now:
                    _mark(row, AccountStatus.EXPIRED, _expired_reason(row), now)
                    expired += 1
                elif row.expiry_reminder_sent_at is None and await self._remind(db, row):
                    row.expiry_reminder_sent_at = now
                    reminded += 1
            await db.commit()
        return LifecycleReport(reminded=reminded, expired=expired)

    async def _remind(self, db: AsyncSession, row: SocialAccount) -> bool:
        if self.mailer is None:
            return False
        user = await db.get(User, row.owner_id)
        if user is None:
            return False
        assert row.token_expires_at is not None
        link = f"{self.settings.effective_public_url()}/api/social/accounts/{row.platform}/connect"
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = user.email
        name = row.display_name or row.username or row.platform_user_id
        message["Subject"] = f"Reconnect your {row.platform} account {name}"
        message.set_content(
            f"AllIN's access to your {row.platform} account {name} ends on "
            f"{row.token_expires_at:%Y-%m-%d %H:%M} UTC. The platform does not renew it "
            f"automatically: reconnect the account before then to keep publishing.\n\n{link}\n"
        )
        try:
            await self.mailer.send(message, link=link)
        except Exception:  # a mail server being down must not stop the sweep
            log.warning("social expiry reminder not sent", account_id=str(row.id), exc_info=True)
            return False
        return True

    # --- tokens moved from an older table ---

    async def rebind_tokens(self) -> int:
        """Bind ciphertexts that are bound to the key only to their row. Returns how many."""
        async with self.sessions() as db:
            ids = list(
                await db.scalars(
                    select(SocialAccount.id).where(SocialAccount.token_binding != TokenBinding.ROW)
                )
            )
        done = 0
        for account_id in ids:
            async with self._locked_row(account_id) as (_, row):
                if row is None or row.token_binding == TokenBinding.ROW:
                    continue
                try:
                    access = (
                        self._reseal(row, row.access_token_enc) if row.access_token_enc else None
                    )
                    refresh = (
                        self._reseal(row, row.refresh_token_enc) if row.refresh_token_enc else None
                    )
                except CryptoError:
                    log.error("social tokens unreadable; not re-bound", account_id=str(row.id))
                    continue
                row.access_token_enc, row.refresh_token_enc = access, refresh
                row.token_binding = TokenBinding.ROW
                done += 1
        if done:
            log.info("social tokens bound to their accounts", accounts=done)
        return done

    # --- background work ---

    async def sweep(self) -> None:
        """One pass of the background job: bind moved tokens to their rows, refresh what is
        due, remind, expire."""
        await self.rebind_tokens()
        report = await self.refresh_expiring(self.refresh_margin)
        if report.refreshed or report.failed:
            log.info(
                "social refresh sweep",
                refreshed=len(report.refreshed),
                failed=[(str(a), code) for a, code, _ in report.failed],
            )
        await self.remind_and_expire()

    async def run_periodically(self, interval: float) -> None:
        while True:
            bind_correlation_id(new_correlation_id())  # one per pass, on every line it logs
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:  # the next pass tries again
                log.error("social refresh sweep failed", exc_info=True)
            await asyncio.sleep(interval)

    async def accounts_matching(self, text: str | None) -> list[SocialAccount]:
        """Every account (CLI), optionally only those named by id, user id or name."""
        query = select(SocialAccount).order_by(SocialAccount.platform, SocialAccount.connected_at)
        if text:
            named = [
                SocialAccount.platform == text.lower(),
                SocialAccount.platform_user_id == text,
                SocialAccount.username == text,
                SocialAccount.display_name == text,
            ]
            with contextlib.suppress(ValueError):
                named.append(SocialAccount.id == uuid.UUID(text))
            query = query.where(or_(*named))
        async with self.sessions() as db:
            return list(await db.scalars(query))


def _mark(
    row: SocialAccount, status: AccountStatus, reason: str, now: datetime | None = None
) -> None:
    now = now or utcnow()
    row.status = status
    row.status_reason = reason
    row.reconnect_fixes = True
    row.last_error = reason
    row.last_error_at = now
    row.updated_at = now


def _expired_reason(row: SocialAccount) -> str:
    return (
        f"Access to this {row.platform} account expired and the platform does not renew it: "
        "reconnect the account."
    )


def _about(row: SocialAccount) -> dict[str, Any]:
    return {
        "account_id": str(row.id),
        "platform": row.platform,
        "status": row.status,
        "reconnect": True,
        "reconnect_url": f"/api/social/accounts/{row.platform}/connect",
    }
