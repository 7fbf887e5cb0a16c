"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives."""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.server import free_port

LINK_RE = re.compile(r"(https?://\S+?)\?token=([A-Za-z0-9_\-]+)")


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    login: str | None

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())  # type: ignore[attr-defined]

    def link(self) -> tuple[str, str]:
        """(url without query, token) of the first link."""
        match = LINK_RE.search(self.body)
        assert match, self.body
        return match.group(1), match.group(2)


@dataclass
class Mailbox:
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        login = session.authenticated and getattr(session, "auth_data", None)
        login_name = login.login.decode() if isinstance(login, LoginPassword) else None
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), message, login_name)
            )
        return "250 OK"

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.recipients]

    async def wait_for(self, address: str, count: int = 1, seconds: float = 5.0) -> Received:
        """The `count`-th mail to `address`, waiting for it to arrive."""
        for _ in range(int(seconds / 0.02)):
            mails = self.to(address)
            if len(mails) >= count:
                return mails[count - 1]
            await asyncio.sleep(0.02)
        raise AssertionError(f"no mail #{count} for {address}; got {self.received}")


class SmtpServer:
    def __init__(
        self,
        *,
        tls_context: ssl.SSLContext | None = None,
        require_starttls: bool = False,
        implicit_tls: ssl.SSLContext | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        kwargs: dict[str, Any] = {}
        if tls_context is not None:
            kwargs.update(tls_context=tls_context, require_starttls=require_starttls)
        if credentials is not None:
            kwargs.update(authenticator=_authenticator(credentials), auth_required=True)
            if tls_context is None:
                kwargs["auth_require_tls"] = False
        self.controller = Controller(
            self.mailbox, hostname="127.0.0.1", port=self.port, ssl_context=implicit_tls, **kwargs
        )

    def __enter__(self) -> SmtpServer:
        # aiosmtpd logs each connection at INFO from its own thread, sometimes after pytest
        # has closed the captured stream ("--- Logging error ---"); its warnings still show.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.controller.stop()


def _authenticator(credentials: tuple[str, str]) -> Any:
    user, password = credentials

    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == user
            and data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    return check


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (cert, key), written as PEM."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
