"""Browser fixtures: Debian's chromium driven by Playwright (never `playwright install`), a
fresh profile per module, and a page whose every request is checked to stay on the app."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright

from tests.dashboard.support import Stack, running_stack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts"


# Module scope: Playwright's synchronous API keeps an event loop running in this thread, and
# the asyncio tests of other modules need it gone.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("Debian's chromium is needed: apt-get install -y chromium (.ci/run does)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        running.create_admin()
        yield running


@pytest.fixture(scope="module")
def browser(
    playwright: Playwright, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserContext]:
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path_factory.mktemp("chromium-profile")),
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        headless=True,
        accept_downloads=True,
        viewport={"width": 1400, "height": 1000},
        locale="en-GB",
        timezone_id="UTC",
    )
    context.set_default_timeout(10_000)
    try:
        yield context
    finally:
        context.close()


# Chromium logs every 4xx answer to fetch(); the API's are expected and the pages explain
# them. A failing page file (shell, script, style, chart library) is caught by status below.
_FAILED_LOAD = re.compile(r"^Failed to load resource: ")


def _is_error(text: str, kind: str) -> bool:
    return kind == "error" and not _FAILED_LOAD.search(text)


def _failed_file(url: str, status: int) -> bool:
    return status >= 400 and not urlsplit(url).path.startswith("/api/")


class RequestLog:
    """Every request the page makes; the dashboard must never leave its own origin."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.urls: list[str] = []

    def record(self, url: str) -> None:
        self.urls.append(url)

    def foreign(self) -> list[str]:
        allowed = ("data:", "blob:", "about:")
        return [
            url for url in self.urls if not url.startswith(allowed) and _origin(url) != self.origin
        ]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture
def requests(stack: Stack) -> RequestLog:
    return RequestLog(stack.base_url)


@pytest.fixture
def page(browser: BrowserContext, stack: Stack, requests: RequestLog) -> Iterator[Page]:
    errors: list[str] = []
    page = browser.new_page()
    page.on("request", lambda request: requests.record(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "response",
        lambda r: errors.append(f"{r.status} {r.url}") if _failed_file(r.url, r.status) else None,
    )
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if _is_error(message.text, message.type) else None
        ),
    )
    try:
        yield page
    finally:
        # A fresh start for the next test: no session left in this profile.
        page.evaluate(
            "localStorage.clear(); sessionStorage.clear(); indexedDB.deleteDatabase('allin')"
        )
        browser.clear_cookies()
        page.close()
    assert not requests.foreign(), f"requests left the app: {requests.foreign()}"
    assert not errors, f"errors in the page: {errors}"


def sign_in(page: Page, stack: Stack, path: str = "/app") -> None:
    from tests.dashboard.support import ADMIN_EMAIL, ADMIN_PASSWORD

    page.goto(stack.base_url + path)
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#topbar").wait_for(state="visible")


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
