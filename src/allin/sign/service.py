"""The sign service of one app: the configured signer, the signature cache, and the fetcher
the EulerStream-compatible fetch routes use."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from allin.core.config import Settings
from allin.sign.access import SELFTEST_HEADER
from allin.sign.algorithm.signer import DEFAULT_USER_AGENT
from allin.sign.bodies import check_tiktok_url
from allin.sign.browser import BrowserConfig, BrowserPool, BrowserSigner, BrowserWebcastFetcher
from allin.sign.cache import MemorySignatureCache, NoCache, RedisSignatureCache, SignatureCache
from allin.sign.fast_algorithm import FastAlgorithmSigner
from allin.sign.fetch import WebcastFetcher, WebcastSigner
from allin.sign.signers import SignedUrl, Signer
from allin.sign.upstream import Provider, UpstreamPool, UpstreamSigner, UpstreamWebcastFetcher
from allin.sign.webcast_signing import AlgorithmWebcastSigner


@dataclass(frozen=True, slots=True)
class TikTokHosts:
    web_url: str
    webcast_url: str
    verify: bool | str = True


@dataclass
class SignService:
    settings: Settings
    signer: Signer
    cache: SignatureCache
    hosts: TikTokHosts
    browser: BrowserPool | None = None
    upstream: UpstreamPool | None = None
    selftests: dict[str, TikTokHosts] = field(default_factory=dict)
    selftest_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    webcast_signer: WebcastSigner = field(default_factory=AlgorithmWebcastSigner)
    """Signs the fetch routes' requests to TikTok in the `algorithm` mode (replaceable)."""

    @property
    def mode(self) -> str:
        return self.signer.name

    async def start(self) -> None:
        if self.browser is not None:
            await self.browser.start()

    async def close(self) -> None:
        if self.browser is not None:
            await self.browser.close()
        if self.upstream is not None:
            await self.upstream.close()
        await self.cache.close()

    async def ready(self) -> bool:
        return await self.signer.ready()

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"signer": self.mode}
        if self.browser is not None:
            info["browser"] = self.browser.describe()
        if self.upstream is not None:
            info["upstreams"] = [p.base for p in self.upstream.providers]
        return info

    async def sign(self, url: str, user_agent: str | None = None) -> tuple[SignedUrl, bool]:
        """The signed URL and whether it came from the cache. Raises InvalidTikTokUrl,
        SignerError."""
        agent = user_agent or DEFAULT_USER_AGENT
        cached = await self.cache.get(url, agent)  # only URLs that passed the check are cached
        if cached is not None:
            return cached, True
        check_tiktok_url(url)
        signed = await self.signer.sign_url(url, user_agent=agent)
        await self.cache.put(url, agent, signed)
        return signed, False

    # -- the fetch routes ------------------------------------------------------------------

    def fetcher(self, request: Request) -> WebcastFetcher:
        """The fetch routes' fetcher: the configured signer's, or, for the compatibility
        self-test's own requests, one aimed at the simulator it started."""
        token = request.headers.get(SELFTEST_HEADER)
        hosts = self.selftests.get(token) if token else None
        return self._fetcher_for(hosts or self.hosts, self.webcast_signer)

    def _fetcher_for(self, hosts: TikTokHosts, signer: WebcastSigner) -> WebcastFetcher:
        if self.upstream is not None:  # the providers fetch from TikTok themselves
            return UpstreamWebcastFetcher(self.upstream)
        if self.browser is not None:
            return BrowserWebcastFetcher(
                self.browser, web_url=hosts.web_url, webcast_url=hosts.webcast_url
            )
        return WebcastFetcher(
            webcast_url=hosts.webcast_url,
            web_url=hosts.web_url,
            signer=signer,
            timeout=self.settings.http_timeout,
            verify=hosts.verify,
        )

    @asynccontextmanager
    async def selftest_hosts(self, hosts: TikTokHosts) -> AsyncIterator[str]:
        """A one-time token whose fetch requests go to ``hosts`` (the self-test's simulator)."""
        token = secrets.token_urlsafe(32)
        self.selftests[token] = hosts
        try:
            yield token
        finally:
            self.selftests.pop(token, None)


def tiktok_hosts(settings: Settings) -> TikTokHosts:
    ca = settings.sign_tiktok_ca_file
    return TikTokHosts(
        settings.tiktok_web_url, settings.tiktok_webcast_url, str(ca) if ca else True
    )


def create_cache(settings: Settings) -> SignatureCache:
    if settings.sign_cache_ttl <= 0:
        return NoCache()
    if settings.redis_url:
        return RedisSignatureCache.from_url(
            settings.redis_url, ttl=settings.sign_cache_ttl, prefix=settings.redis_key_prefix
        )
    return MemorySignatureCache(
        ttl=settings.sign_cache_ttl, max_entries=settings.sign_cache_max_entries
    )


def create_service(settings: Settings) -> SignService:
    hosts = tiktok_hosts(settings)
    cache = create_cache(settings)
    if settings.signer == "browser":
        pool = BrowserPool(
            BrowserConfig(
                executable=settings.sign_browser_executable,
                start_url=hosts.web_url.rstrip("/") + settings.sign_browser_start_path,
                web_url=hosts.web_url,
                webcast_url=hosts.webcast_url,
                pages=settings.sign_browser_pages,
                timeout=settings.sign_browser_timeout,
                max_uses=settings.sign_browser_max_uses,
                max_age=settings.sign_browser_max_age,
                max_queue=settings.sign_browser_max_queue,
            )
        )
        return SignService(settings, BrowserSigner(pool), cache, hosts, browser=pool)
    if settings.signer == "upstream":
        providers = [
            Provider(u.url, u.api_key.get_secret_value() if u.api_key else None)
            for u in settings.sign_upstreams
        ]
        upstream = UpstreamPool(
            providers, timeout=settings.sign_upstream_timeout, verify=hosts.verify
        )
        return SignService(settings, UpstreamSigner(upstream), cache, hosts, upstream=upstream)
    return SignService(settings, FastAlgorithmSigner(), cache, hosts)
