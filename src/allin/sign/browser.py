"""The browser signer: a pool of headless Chromium pages (Playwright, Debian's chromium) that
load a TikTok live page and let that page's own script sign requests and make the fetch, so
TikTok sees a browser-grade session (since 2026-09 a bare signature is not enough).

Each page has its own context (cookies, User-Agent), serves one job at a time (a FIFO lock is
the per-page queue), and is recycled after ``max_uses`` jobs, after ``max_age`` seconds, after
an error or a timeout, and when a caller needs another User-Agent.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from allin.core.clock import clock
from allin.core.logging import Category, get_logger
from allin.core.text import is_ascii_digits
from allin.sign.algorithm.signer import DEFAULT_USER_AGENT, AlgorithmSigner
from allin.sign.browser_script import SIGNATURE_PARAM
from allin.sign.fetch import FetchedWebcast, FetchError, FetchQuery, WebcastFetcher
from allin.sign.fetch import ensure_first as ensure_first_fetch
from allin.sign.signers import SignedUrl, SignerError, SignerUnavailable
from allin.sign.webcast_signing import sign_configured_url

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page, Playwright

log = get_logger(Category.SIGN)
T = TypeVar("T")

LAUNCH_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
SESSION_COOKIE = "ttwid"

# Runs in the page: the page's own signer must be there (TikTok: webmssdk's byted_acrawler).
_SIGN_JS = """(url) => {
  const acrawler = window.byted_acrawler;
  if (!acrawler || typeof acrawler.sign !== "function") return null;
  return String(acrawler.sign({url}));
}"""
_FETCH_JS = """async (url) => {
  const acrawler = window.byted_acrawler;
  if (!acrawler || typeof acrawler.sign !== "function") return null;
  const signature = String(acrawler.sign({url}));
  const separator = url.includes("?") ? "&" : "?";
  const signed = url + separator + PARAM + "=" + encodeURIComponent(signature);
  const response = await fetch(signed, {
    credentials: "include", headers: {Accept: "application/protobuf"}});
  const bytes = new Uint8Array(await response.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return {status: response.status, body: btoa(binary)};
}""".replace("PARAM", repr(SIGNATURE_PARAM))
_ROOM_JS = """() => {
  const node = document.getElementById("SIGI_STATE");
  if (!node) return {error: "no SIGI_STATE"};
  const room = (JSON.parse(node.textContent || "{}").LiveRoom || {}).liveRoomUserInfo;
  if (!room || !room.user) return {error: "not found"};
  return {roomId: String(room.user.roomId || ""), status: room.user.status};
}"""


@dataclass(frozen=True, slots=True)
class BrowserConfig:
    executable: Path
    start_url: str  # a TikTok page that carries the signing script
    web_url: str  # TikTok's web host (live pages at /@{unique_id}/live)
    webcast_url: str
    pages: int = 2
    timeout: float = 15.0
    max_uses: int = 500
    max_age: float = 1800.0
    max_queue: int = 64


@dataclass
class _Slot:
    """One pooled page and its queue."""

    index: int
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0
    context: BrowserContext | None = None
    page: Page | None = None
    user_agent: str = ""
    location: str = ""
    uses: int = 0
    created_at: float = 0.0


@dataclass
class PoolStats:
    jobs: int = 0
    failures: int = 0
    timeouts: int = 0
    recycles: int = 0
    launches: int = 0


class BrowserPool:
    def __init__(self, config: BrowserConfig) -> None:
        self.config = config
        self.stats = PoolStats()
        self._slots = [_Slot(i) for i in range(config.pages)]
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._launch_lock = asyncio.Lock()
        self._closed = False

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        await self._ensure_browser()

    async def close(self) -> None:
        self._closed = True
        for slot in self._slots:
            await self._recycle(slot, count=False)
        if self._browser is not None:
            await _quietly(self._browser.close())
            self._browser = None
        if self._playwright is not None:
            await _quietly(self._playwright.stop())
            self._playwright = None

    def ready(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    def describe(self) -> dict[str, Any]:
        return {
            "pages": len(self._slots),
            "open_pages": sum(1 for s in self._slots if s.page is not None),
            "queued": sum(s.waiting for s in self._slots),
            "jobs": self.stats.jobs,
            "failures": self.stats.failures,
            "timeouts": self.stats.timeouts,
            "recycles": self.stats.recycles,
            "launches": self.stats.launches,
        }

    async def _ensure_browser(self) -> Browser:
        async with self._launch_lock:
            if self._closed:
                raise SignerUnavailable("Browser signer is shut down")
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            try:
                from playwright.async_api import async_playwright
            except ImportError as exc:
                raise SignerUnavailable("The browser signer needs the playwright package") from exc
            if self._playwright is None:
                self._playwright = await async_playwright().start()
            try:
                self._browser = await self._playwright.chromium.launch(
                    executable_path=str(self.config.executable),
                    headless=True,
                    args=list(LAUNCH_ARGS),
                )
            except Exception as exc:
                raise SignerUnavailable(f"Could not start Chromium: {exc}") from exc
            self.stats.launches += 1
            for slot in self._slots:  # pages of a dead browser are gone
                slot.context = slot.page = None
            log.info("browser started", executable=str(self.config.executable))
            return self._browser

    # -- jobs ------------------------------------------------------------------------------

    async def run(
        self, job: Callable[[Page], Awaitable[T]], *, user_agent: str, url: str | None = None
    ) -> T:
        """Run ``job`` on a page that shows ``url`` (default: the start page) with
        ``user_agent``, after the jobs queued before it on that page."""
        slot = min(self._slots, key=lambda s: s.waiting + s.lock.locked())
        if slot.waiting >= self.config.max_queue:
            raise SignerUnavailable("Service temporarily unavailable: every browser page is busy")
        slot.waiting += 1
        try:
            await slot.lock.acquire()
        finally:
            slot.waiting -= 1
        try:
            return await self._run_on(slot, job, user_agent, url or self.config.start_url)
        finally:
            slot.lock.release()

    async def _run_on(
        self, slot: _Slot, job: Callable[[Page], Awaitable[T]], user_agent: str, url: str
    ) -> T:
        self.stats.jobs += 1
        try:
            async with asyncio.timeout(self.config.timeout):
                page = await self._page(slot, user_agent, url)
                result = await job(page)
        except TimeoutError:
            self.stats.timeouts += 1
            await self._recycle(slot)
            raise SignerError(
                f"Browser signer timed out after {self.config.timeout:g}s", status=504
            ) from None
        except (SignerError, FetchError):
            self.stats.failures += 1
            raise
        except Exception as exc:  # a page or browser error: start this page afresh
            self.stats.failures += 1
            await self._recycle(slot)
            raise SignerError(f"Browser signer failed: {type(exc).__name__}: {exc}") from exc
        slot.uses += 1
        return result

    async def _page(self, slot: _Slot, user_agent: str, url: str) -> Page:
        expired = slot.uses >= self.config.max_uses or (
            clock.monotonic() - slot.created_at >= self.config.max_age
        )
        if slot.page is not None and (expired or slot.user_agent != user_agent):
            await self._recycle(slot)
        if slot.page is None:
            browser = await self._ensure_browser()
            slot.context = await browser.new_context(user_agent=user_agent)
            slot.page = await slot.context.new_page()
            slot.user_agent, slot.location = user_agent, ""
            slot.uses, slot.created_at = 0, clock.monotonic()
        if slot.location != url:
            response = await slot.page.goto(url, wait_until="load")
            if response is None or response.status >= 400:
                status = response.status if response is not None else "no answer"
                raise SignerError(f"TikTok page {url} answered {status}")
            slot.location = url
        return slot.page

    async def _recycle(self, slot: _Slot, *, count: bool = True) -> None:
        if slot.context is not None:
            await _quietly(slot.context.close())
            if count:
                self.stats.recycles += 1
        slot.context = slot.page = None
        slot.location = ""


async def _quietly(awaitable: Awaitable[Any]) -> None:
    try:
        await awaitable
    except Exception as exc:  # closing something already dead
        log.debug("browser close failed", error=str(exc))


def _append_signature(url: str, signature: str) -> str:
    from urllib.parse import quote

    return f"{url}{'&' if '?' in url else '?'}{SIGNATURE_PARAM}={quote(signature, safe='')}"


class BrowserSigner:
    """msToken and X-Bogus by the public algorithms (bound to the page's User-Agent), then the
    page's own ``byted_acrawler.sign`` over the result for ``_signature``."""

    name: str = "browser"

    def __init__(self, pool: BrowserPool, *, algorithm: AlgorithmSigner | None = None) -> None:
        self.pool = pool
        self.algorithm = algorithm or AlgorithmSigner()

    async def ready(self) -> bool:
        return self.pool.ready()

    async def sign_url(
        self,
        url: str,
        *,
        user_agent: str | None = None,
        now: Callable[[], float] | None = None,
    ) -> SignedUrl:
        agent = user_agent or DEFAULT_USER_AGENT
        base = self.algorithm.sign(url, user_agent=agent, now=now)

        async def sign_in_page(page: Page) -> str | None:
            value: str | None = await page.evaluate(_SIGN_JS, base.signed_url)
            return value

        signature = await self.pool.run(sign_in_page, user_agent=agent)
        if not signature:
            raise SignerError("Signature generation failed: the page has no signing script")
        return SignedUrl(
            signed_url=_append_signature(base.signed_url, signature),
            x_bogus=base.x_bogus,
            ms_token=base.ms_token,
            x_tt_params=base.x_tt_params,
            user_agent=agent,
            signature=signature,
        )


class BrowserWebcastFetcher(WebcastFetcher):
    """`webcast/im/fetch` made by the page itself: its cookies, its signature, its fetch()."""

    def __init__(
        self,
        pool: BrowserPool,
        *,
        web_url: str | None = None,
        webcast_url: str | None = None,
        algorithm: AlgorithmSigner | None = None,
    ) -> None:
        config = pool.config
        super().__init__(
            webcast_url=webcast_url or config.webcast_url,
            web_url=web_url or config.web_url,
            timeout=config.timeout,
        )
        self.pool = pool
        self.algorithm = algorithm or AlgorithmSigner()

    async def fetch(self, query: FetchQuery) -> FetchedWebcast:
        from allin.live.web import BrowserProfile

        agent = query.user_agent or DEFAULT_USER_AGENT
        page_url = None
        if query.unique_id:  # the streamer's own live page, as a viewer would open it
            page_url = f"{self.web_url}/@{query.unique_id}/live"
        profile = BrowserProfile(user_agent=agent)

        async def fetch_in_page(page: Page) -> FetchedWebcast:
            room_id = query.room_id or await _room_id_from_page(page, query.unique_id or "")
            url = self._request(room_id, query, profile).url
            signed = sign_configured_url(self.algorithm, url, agent)
            answer = await page.evaluate(_FETCH_JS, signed)
            if answer is None:
                raise FetchError(502, "The TikTok page has no signing script")
            if answer["status"] != 200:
                raise FetchError(502, f"TikTok answered HTTP {answer['status']}")
            body = base64.b64decode(answer["body"])
            if not body:
                raise FetchError(500, "Empty response payload received! (Internal Code: 200)")
            context = page.context
            cookies = {c["name"]: c["value"] for c in await context.cookies([self.webcast_url])}
            if SESSION_COOKIE not in cookies:
                raise FetchError(500, "TikTok set no ttwid session cookie")
            ordered = sorted(cookies.items(), key=lambda kv: kv[0] != SESSION_COOKIE)
            return FetchedWebcast(ensure_first_fetch(body), tuple(ordered), room_id)

        try:
            return await self.pool.run(fetch_in_page, user_agent=agent, url=page_url)
        except SignerError as exc:
            raise FetchError(exc.status, exc.message) from exc


async def _room_id_from_page(page: Page, unique_id: str) -> int:
    found: dict[str, Any] = await page.evaluate(_ROOM_JS)
    if "error" in found:
        raise FetchError(404, f"TikTok user not found: @{unique_id}")
    if found.get("status") == 4 or not is_ascii_digits(str(found.get("roomId", ""))):
        raise FetchError(409, f"The user is not live: @{unique_id}")
    return int(found["roomId"])


__all__ = ["LAUNCH_ARGS", "BrowserConfig", "BrowserPool", "BrowserSigner", "BrowserWebcastFetcher"]
