"""Outgoing mail: verification and password-reset links.

Backends: `console` (development default: logs the link, needs no mail server) and `smtp`
(aiosmtplib; none / STARTTLS / implicit TLS, optional login). Mails are sent after the
request's transaction commits, so a rolled-back sign-up never mails a link.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol
from urllib.parse import urlencode

import aiosmtplib

from allin.core.config import Settings
from allin.core.logging import Category, get_logger
from allin.core.redact import Deliberate

log = get_logger(Category.AUTH)


class EmailBackend(Protocol):
    async def send(self, message: EmailMessage, *, link: str | None = None) -> None: ...


class ConsoleEmailBackend:
    """Writes the mail's link to the log instead of sending it (development only)."""

    async def send(self, message: EmailMessage, *, link: str | None = None) -> None:
        shown = Deliberate(link) if link is not None else None
        log.info(
            "email (console backend)", to=message["To"], subject=message["Subject"], link=shown
        )


class SmtpEmailBackend:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage, *, link: str | None = None) -> None:
        s = self.settings
        password = s.smtp_password.get_secret_value() if s.smtp_password else None
        await aiosmtplib.send(
            message,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_user,
            password=password,
            use_tls=s.smtp_tls == "tls",
            start_tls=s.smtp_tls == "starttls",
            cert_bundle=str(s.smtp_ca_file) if s.smtp_ca_file else None,
            timeout=s.smtp_timeout,
        )
        log.info("email sent", to=message["To"], subject=message["Subject"])


def create_email_backend(settings: Settings) -> EmailBackend:
    if settings.email_backend == "smtp":
        return SmtpEmailBackend(settings)
    return ConsoleEmailBackend()


def public_url(settings: Settings) -> str:
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    return base.rstrip("/")


def link(settings: Settings, path: str, token: str) -> str:
    return f"{public_url(settings)}{path}?{urlencode({'token': token})}"


def _message(settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="allin.local")
    message.set_content(body)
    return message


def verification_mail(
    settings: Settings, to: str, name: str, token: str
) -> tuple[EmailMessage, str]:
    url = link(settings, "/verify-email", token)
    hours = int(settings.verify_token_expires_in.total_seconds() // 3600)
    body = (
        f"Hello {name},\n\n"
        f"Confirm your email address for AllIN by opening this link:\n\n{url}\n\n"
        f"The link works once and expires in {hours} hours. "
        "If you did not create an account, ignore this mail.\n"
    )
    return _message(settings, to, "Confirm your AllIN account", body), url


def password_reset_mail(
    settings: Settings, to: str, name: str, token: str
) -> tuple[EmailMessage, str]:
    url = link(settings, "/reset-password", token)
    minutes = int(settings.reset_token_expires_in.total_seconds() // 60)
    body = (
        f"Hello {name},\n\n"
        f"Someone asked to reset the password of your AllIN account. To choose a new one, "
        f"open this link:\n\n{url}\n\n"
        f"The link works once and expires in {minutes} minutes. Resetting signs out every "
        "session. If it was not you, ignore this mail: your password stays as it is.\n"
    )
    return _message(settings, to, "Reset your AllIN password", body), url
