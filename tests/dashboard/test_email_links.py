"""The links in our mails open real pages: a real mail over SMTP (aiosmtpd), its link clicked
in Debian's chromium, the email verified, the password reset, and the new one signs in."""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from allin.app import create_app
from allin.core.config import Settings
from tests.auth.mail import Received, SmtpServer
from tests.support.server import free_port, serve_in_thread

EMAIL = "mail-links@example.com"
FIRST = "Violet-harbour-lantern-2026"
SECOND = "Quiet-meadow-compass-1987"


@pytest.fixture(scope="module")
def mail() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def base_url(mail: SmtpServer) -> Iterator[str]:
    root = Path(tempfile.mkdtemp(prefix="allin-mail-links-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        env="test",
        data_dir=root / "var",
        database_url=f"sqlite+aiosqlite:///{root / 'allin.db'}",
        secret_key="mail-links-secret",
        password_hash_profile="test",
        rate_limit_enabled=False,
        log_level="WARNING",
        email_backend="smtp",
        smtp_host="127.0.0.1",
        smtp_port=mail.port,
        smtp_tls="none",
        public_url=url,
    )
    with serve_in_thread(create_app(settings), port=port):
        with httpx.Client(base_url=url) as http:  # an admin exists: no first-run page
            body = {"email": "owner@example.com", "password": FIRST}
            http.post("/api/auth/setup", json=body).raise_for_status()
        yield url


def _mail(server: SmtpServer, number: int) -> Received:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mails = server.mailbox.to(EMAIL)
        if len(mails) >= number:
            return mails[number - 1]
        time.sleep(0.05)
    raise AssertionError(f"mail #{number} to {EMAIL} never came")


def _open_link(page: Page, received: Received) -> None:
    url, token = received.link()
    page.goto(f"{url}?token={token}")
    # The page drops the token from the address bar and the history.
    expect(page).not_to_have_url(re.compile("token="))


def test_verify_then_reset_then_sign_in(
    browser: BrowserContext, base_url: str, mail: SmtpServer
) -> None:
    errors: list[str] = []
    page = browser.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        with httpx.Client(base_url=base_url) as http:
            registered = http.post("/api/auth/register", json={"email": EMAIL, "password": FIRST})
            assert registered.status_code == 201, registered.text
        verification = _mail(mail, 1)
        assert verification.link()[0] == f"{base_url}/verify-email"
        _open_link(page, verification)
        expect(page.locator("#verify-status")).to_have_text(
            "Your email is verified. You can sign in now."
        )
        _open_link(page, verification)  # once only
        expect(page.locator("#verify-status")).to_contain_text("already used")

        with httpx.Client(base_url=base_url) as http:
            asked = http.post("/api/auth/forgot-password", json={"email": EMAIL})
            assert asked.status_code == 202
        reset = _mail(mail, 2)
        assert reset.link()[0] == f"{base_url}/reset-password"
        _open_link(page, reset)
        page.get_by_label("New password").fill(SECOND)
        page.get_by_label("Repeat it").fill(SECOND)
        page.get_by_role("button", name="Set the new password").click()
        expect(page.locator("#reset-done")).to_be_visible()
        page.locator("#reset-done").get_by_role("link", name="Sign in").click()
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill(SECOND)
        page.get_by_role("button", name="Sign in").click()
        page.locator("#topbar").wait_for(state="visible")
    finally:
        page.close()
    assert not errors, errors


def test_api_docs_render_under_their_policy(browser: BrowserContext, base_url: str) -> None:
    """Swagger UI still works with its Content-Security-Policy (nothing blocked)."""
    errors: list[str] = []
    page = browser.new_page()
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    try:
        page.goto(f"{base_url}/api/docs")
        # The first /api/openapi.json builds the whole schema: seconds on a busy machine.
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("AllIN", timeout=30_000)
        expect(page.locator(".opblock").first).to_be_visible()
    finally:
        page.close()
    assert not errors, errors
