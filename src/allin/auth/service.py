"""Account flows: register, verify, log in, refresh, log out, reset and change passwords,
first-run setup and admin changes. HTTP-free: the routers and the CLI both call this."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from allin.auth.email import EmailBackend, password_reset_mail, verification_mail
from allin.auth.errors import (
    AccountNotVerifiedError,
    AccountSuspendedError,
    EmailTakenError,
    InvalidCredentialsError,
    InvalidLinkError,
    InvalidTokenError,
    SetupDoneError,
    WeakPasswordError,
    WrongPasswordError,
)
from allin.auth.models import AppSetting, EmailToken, Role, TokenPurpose, User, UserStatus
from allin.auth.passwords import Passwords, password_problems
from allin.auth.sessions import IssuedRefresh, SessionStore
from allin.auth.tokens import create_access_token, hash_secret, new_secret
from allin.core.clock import utcnow
from allin.core.config import Settings
from allin.core.deps import after_commit
from allin.core.logging import Category, get_logger

log = get_logger(Category.AUTH)
SETUP_MARKER = "auth.setup_completed"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password(password: str, email: str | None) -> None:
    problems = password_problems(password, email=email)
    if problems:
        raise WeakPasswordError(
            "Password " + "; ".join(problems),
            details=[{"field": "password", "message": p} for p in problems],
        )


@dataclass(frozen=True, slots=True)
class TokenPair:
    user: User
    access_token: str
    access_expires_at: datetime
    refresh: IssuedRefresh


class AuthService:
    def __init__(
        self,
        db: AsyncSession,
        settings: Settings,
        store: SessionStore,
        passwords: Passwords,
        mailer: EmailBackend,
    ) -> None:
        self.db = db
        self.settings = settings
        self.store = store
        self.passwords = passwords
        self.mailer = mailer

    # --- accounts -------------------------------------------------------------

    async def find_by_email(self, email: str) -> User | None:
        return await self.db.scalar(select(User).where(User.email == normalise_email(email)))

    async def create_user(
        self,
        email: str,
        password: str,
        display_name: str | None = None,
        *,
        role: Role = Role.USER,
        active: bool = False,
    ) -> User:
        email = normalise_email(email)
        check_password(password, email)
        if await self.find_by_email(email) is not None:
            raise EmailTakenError()
        now = utcnow()
        user = User(
            id=uuid.uuid4(),
            email=email,
            password_hash=await self.passwords.hash(password),
            display_name=display_name or email.split("@", 1)[0],
            status=UserStatus.ACTIVE if active else UserStatus.PENDING_VERIFICATION,
            role=role,
            email_verified_at=now if active else None,
            password_changed_at=now,
        )
        self.db.add(user)
        try:
            await self.db.flush()
        except IntegrityError:  # a concurrent sign-up with the same email won the race
            raise EmailTakenError() from None
        log.info("user created", user_id=str(user.id), role=str(role), active=active)
        return user

    async def register(self, email: str, password: str, display_name: str | None) -> User:
        user = await self.create_user(email, password, display_name)
        await self._send_verification(user)
        return user

    async def verify_email(self, token: str) -> User:
        user = await self._consume_link(token, TokenPurpose.VERIFY_EMAIL)
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
        if user.status == UserStatus.PENDING_VERIFICATION:
            user.status = UserStatus.ACTIVE
        log.info("email verified", user_id=str(user.id))
        return user

    async def resend_verification(self, email: str) -> None:
        """Mails a new link when the account exists and is unverified; silent otherwise."""
        user = await self.find_by_email(email)
        if user is not None and user.status == UserStatus.PENDING_VERIFICATION:
            await self._send_verification(user)

    # --- sessions -------------------------------------------------------------

    async def login(
        self, email: str, password: str, *, user_agent: str | None, ip: str | None
    ) -> TokenPair:
        user = await self.find_by_email(email)
        if user is None:
            await self.passwords.verify_dummy(password)  # same work as a real check
            raise InvalidCredentialsError()
        if not await self.passwords.verify(user.password_hash, password):
            raise InvalidCredentialsError()
        if user.status == UserStatus.PENDING_VERIFICATION:
            raise AccountNotVerifiedError()
        if user.status == UserStatus.SUSPENDED:
            raise AccountSuspendedError()
        if self.passwords.needs_rehash(user.password_hash):
            user.password_hash = await self.passwords.hash(password)
        user.last_login_at = utcnow()
        issued = await self.store.create(user.id, user_agent=user_agent, ip=ip)
        log.info("login", user_id=str(user.id), session_id=str(issued.session.id))
        return self._pair(user, issued)

    async def refresh(self, refresh_token: str) -> TokenPair:
        issued = await self.store.rotate(refresh_token)
        user = await self.db.get(User, issued.session.user_id)
        if user is None or user.status != UserStatus.ACTIVE:
            await self.store.revoke(issued.session.id, reason="account_inactive")
            if user is not None and user.status == UserStatus.SUSPENDED:
                raise AccountSuspendedError()
            raise InvalidTokenError("Refresh token invalid")
        return self._pair(user, issued)

    async def logout(self, session_id: uuid.UUID) -> bool:
        return await self.store.revoke(session_id, reason="logout")

    # --- passwords ------------------------------------------------------------

    async def forgot_password(self, email: str) -> None:
        """Mails a reset link when the account exists and is not suspended; the caller
        answers the same either way."""
        user = await self.find_by_email(email)
        if user is None or user.status == UserStatus.SUSPENDED:
            return
        token = await self._issue_link(
            user, TokenPurpose.RESET_PASSWORD, self.settings.reset_token_expires_in
        )
        message, url = password_reset_mail(self.settings, user.email, user.display_name, token)
        self._mail_after_commit(message, url)

    async def reset_password(self, token: str, new_password: str) -> User:
        user = await self._consume_link(token, TokenPurpose.RESET_PASSWORD)
        check_password(new_password, user.email)  # raising rolls the token use back
        await self._set_password(user, new_password)
        if user.status == UserStatus.PENDING_VERIFICATION:  # the link proved the mailbox
            user.status = UserStatus.ACTIVE
            user.email_verified_at = user.email_verified_at or utcnow()
        revoked = await self.store.revoke_all(user.id, reason="password_reset")
        log.info("password reset", user_id=str(user.id), sessions_revoked=revoked)
        return user

    async def change_password(
        self, user: User, current: str, new: str, *, keep_session: uuid.UUID | None
    ) -> int:
        if not await self.passwords.verify(user.password_hash, current):
            raise WrongPasswordError()
        check_password(new, user.email)
        await self._set_password(user, new)
        return await self.store.revoke_all(user.id, reason="password_changed", keep=keep_session)

    # --- first run and admin --------------------------------------------------

    async def needs_setup(self) -> bool:
        return (await self.db.scalar(select(func.count()).select_from(User))) == 0

    async def setup(self, email: str, password: str, display_name: str | None) -> User:
        """The first account, an admin. Active at once with the console mail backend (so a
        fresh `make run` needs no mail server); otherwise it verifies its email first."""
        if not await self.needs_setup():
            raise SetupDoneError()
        # The marker's primary key makes two concurrent set-ups conflict.
        self.db.add(AppSetting(key=SETUP_MARKER, value=utcnow().isoformat()))
        try:
            await self.db.flush()
        except IntegrityError:
            raise SetupDoneError() from None
        active = self.settings.email_backend == "console"
        user = await self.create_user(email, password, display_name, role=Role.ADMIN, active=active)
        if not active:
            await self._send_verification(user)
        return user

    async def set_status(self, user: User, status: UserStatus) -> None:
        user.status = status
        if status == UserStatus.ACTIVE and user.email_verified_at is None:
            user.email_verified_at = utcnow()  # admin activation = manual verification
        if status == UserStatus.SUSPENDED:
            await self.store.revoke_all(user.id, reason="suspended")
        log.info("user status changed", user_id=str(user.id), status=str(status))

    # --- helpers --------------------------------------------------------------

    def _pair(self, user: User, issued: IssuedRefresh) -> TokenPair:
        token, expires = create_access_token(self.settings, user.id, issued.session.id)
        return TokenPair(user, token, expires, issued)

    async def _set_password(self, user: User, password: str) -> None:
        user.password_hash = await self.passwords.hash(password)
        user.password_changed_at = utcnow()

    async def _send_verification(self, user: User) -> None:
        token = await self._issue_link(
            user, TokenPurpose.VERIFY_EMAIL, self.settings.verify_token_expires_in
        )
        message, url = verification_mail(self.settings, user.email, user.display_name, token)
        self._mail_after_commit(message, url)

    def _mail_after_commit(self, message: EmailMessage, url: str) -> None:
        # After commit: no mail for a rolled-back request, and the response does not wait
        # for the mail server (so "forgot password" answers as fast for unknown emails).
        mailer = self.mailer

        async def send() -> None:
            await mailer.send(message, link=url)

        after_commit(self.db, "auth-mail", send)

    async def _issue_link(self, user: User, purpose: TokenPurpose, ttl: timedelta) -> str:
        """A new single-use link token; earlier unused ones for the same purpose stop working."""
        now = utcnow()
        await self.db.execute(
            update(EmailToken)
            .where(
                EmailToken.user_id == user.id,
                EmailToken.purpose == purpose,
                EmailToken.used_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        raw = new_secret()
        self.db.add(
            EmailToken(
                user_id=user.id,
                purpose=purpose,
                token_hash=hash_secret(raw),
                created_at=now,
                expires_at=now + ttl,
            )
        )
        await self.db.flush()
        return raw

    async def _consume_link(self, raw: str, purpose: TokenPurpose) -> User:
        now = utcnow()
        token = await self.db.scalar(
            select(EmailToken).where(
                EmailToken.token_hash == hash_secret(raw), EmailToken.purpose == purpose
            )
        )
        if token is None or token.used_at is not None or token.expires_at <= now:
            raise InvalidLinkError()
        claimed = await self.db.execute(
            update(EmailToken)
            .where(EmailToken.id == token.id, EmailToken.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise InvalidLinkError()
        user = await self.db.get(User, token.user_id)
        if user is None:
            raise InvalidLinkError()
        return user
