"""Mail backends: SMTP (plain, STARTTLS, implicit TLS, login) against a real aiosmtpd
server, and the console backend that logs the link."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from allin.app import create_app
from allin.auth.email import (
    ConsoleEmailBackend,
    SmtpEmailBackend,
    create_email_backend,
    link,
    password_reset_mail,
    verification_mail,
)
from allin.core.config import Settings
from allin.core.logging import configure_logging
from tests.auth.helpers import PASSWORD, unique_email
from tests.auth.mail import SmtpServer, self_signed_cert
from tests.support.server import serve


def test_links_and_messages(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(public_url="https://allin.example.com/", mail_from="Ops <ops@x.io>")
    assert link(settings, "/verify-email", "a+b/c") == (
        "https://allin.example.com/verify-email?token=a%2Bb%2Fc"
    )
    message, url = verification_mail(settings, "ada@example.com", "Ada", "tok")
    assert url == "https://allin.example.com/verify-email?token=tok"
    assert message["From"] == "Ops <ops@x.io>" and message["To"] == "ada@example.com"
    assert url in message.get_content() and "24 hours" in message.get_content()
    reset, reset_url = password_reset_mail(settings, "ada@example.com", "Ada", "tok")
    assert reset_url.endswith("/reset-password?token=tok") and "60 minutes" in reset.get_content()
    default = make_settings(host="0.0.0.0", port=9000)
    assert link(default, "/x", "t") == "http://0.0.0.0:9000/x?token=t"


def test_backend_choice(make_settings: Callable[..., Settings]) -> None:
    assert isinstance(create_email_backend(make_settings()), ConsoleEmailBackend)
    assert isinstance(create_email_backend(make_settings(email_backend="smtp")), SmtpEmailBackend)


async def test_console_backend_logs_the_link(
    make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("json", "INFO")
    message, url = verification_mail(make_settings(), "ada@example.com", "Ada", "secret-tok")
    await ConsoleEmailBackend().send(message, link=url)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    [entry] = [line for line in lines if line.get("event") == "email (console backend)"]
    assert entry["link"] == url and entry["to"] == "ada@example.com"
    assert entry["category"] == "AUTH"


# aiosmtpd cannot tell that an implicit-TLS connection is encrypted, hence its warning.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("mode", ["starttls", "tls"])
async def test_smtp_over_tls_with_login(
    make_settings: Callable[..., Settings], tmp_path: Path, mode: str
) -> None:
    cert, key = self_signed_cert(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    if mode == "starttls":
        server = SmtpServer(tls_context=context, require_starttls=True, credentials=("bot", "pw"))
    else:
        server = SmtpServer(implicit_tls=context, credentials=("bot", "pw"))
    with server:
        settings = make_settings(
            email_backend="smtp",
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            smtp_tls=mode,
            smtp_user="bot",
            smtp_password="pw",
            smtp_ca_file=str(cert),
        )
        message, url = verification_mail(settings, "ada@example.com", "Ada", "tok")
        await SmtpEmailBackend(settings).send(message, link=url)
        received = await server.mailbox.wait_for("ada@example.com")
    assert received.login == "bot"
    assert received.link() == (
        f"{settings.public_url or 'http://127.0.0.1:8000'}/verify-email",
        "tok",
    )


async def test_untrusted_certificate_is_refused(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    cert, key = self_signed_cert(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with SmtpServer(tls_context=context, require_starttls=True) as server:
        settings = make_settings(
            email_backend="smtp", smtp_host="127.0.0.1", smtp_port=server.port, smtp_tls="starttls"
        )
        message, url = verification_mail(settings, "ada@example.com", "Ada", "tok")
        with pytest.raises(Exception, match=r"(?i)certificate"):
            await SmtpEmailBackend(settings).send(message, link=url)
    assert server.mailbox.received == []


async def test_mail_server_down_does_not_fail_sign_up(
    auth_settings: Callable[..., Settings],
) -> None:
    from tests.support.server import free_port

    app = create_app(auth_settings(smtp_port=free_port(), smtp_timeout=1))
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post(
            "/api/auth/register", json={"email": unique_email(), "password": PASSWORD}
        )
        assert response.status_code == 201
        # The user can ask for a new link once the server is back.
        again = await http.post("/api/auth/resend-verification", json={"email": "x@example.com"})
        assert again.status_code == 202
