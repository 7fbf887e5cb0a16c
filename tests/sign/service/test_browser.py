"""The browser signer with Debian's chromium against the simulator, whose live page carries a
signing script and whose im/fetch refuses requests that script did not sign."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from allin.live.protocol import decode_fetch_result
from allin.sign.browser import BrowserConfig, BrowserPool, BrowserSigner, BrowserWebcastFetcher
from allin.sign.browser_script import Verdict, page_signing, verify_signature
from allin.sign.fetch import FetchError, FetchQuery, PassThroughSigner, WebcastFetcher
from allin.sign.signers import Signer, SignerError, SignerUnavailable
from allin.simulator.live.server import RunningSimulator
from allin.simulator.live.simulator import DEMO_STREAMER, Simulator
from tests.sign.service.conftest import SAMPLE_URL

CHROMIUM = Path("/usr/bin/chromium")
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0"


@pytest.fixture
def make_pool(running_sim: RunningSimulator) -> Callable[..., Any]:
    assert CHROMIUM.exists(), "the browser signer needs Debian's chromium"

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[BrowserPool]:
        urls = running_sim.urls
        values: dict[str, Any] = {
            "executable": CHROMIUM,
            "start_url": f"{urls.web}/@tiktok/live",
            "web_url": urls.web,
            "webcast_url": urls.webcast,
            "pages": 1,
            "timeout": 10.0,
        }
        values.update(overrides)
        pool = BrowserPool(BrowserConfig(**values))
        await pool.start()
        try:
            yield pool
        finally:
            await pool.close()

    return start


async def test_signs_with_the_pages_own_script(
    make_pool: Callable[..., Any], sim: Simulator
) -> None:
    async with make_pool() as pool:
        signer = BrowserSigner(pool)
        assert isinstance(signer, Signer) and await signer.ready()
        signed = await signer.sign_url(SAMPLE_URL + "?a=1", user_agent=UA)
    parts = urlsplit(signed.signed_url)
    assert parts.query.startswith("a=1&msToken=")
    assert f"X-Bogus={signed.x_bogus}&_signature=" in parts.query
    assert signed.signature.startswith("1.") and signed.user_agent == UA
    # What the page produced verifies with the simulator's secret (so it came from its script).
    secret = page_signing(sim).secret
    verdict = verify_signature(
        secret, path=parts.path, query=parts.query, user_agent=UA, now=time.time()
    )
    assert verdict is Verdict.VALID


async def test_fetch_is_made_by_the_page(make_pool: Callable[..., Any], sim: Simulator) -> None:
    page_signing(sim).required = True  # the simulator refuses unsigned im/fetch calls now
    room = sim.room(DEMO_STREAMER)
    assert room is not None
    async with make_pool() as pool:
        fetcher = BrowserWebcastFetcher(pool)
        by_name = await fetcher.fetch(FetchQuery(unique_id=DEMO_STREAMER, user_agent=UA))
        by_room = await fetcher.fetch(FetchQuery(room_id=room.room_id, user_agent=UA))
        described = pool.describe()
    for fetched in (by_name, by_room):
        assert fetched.room_id == room.room_id
        assert fetched.cookies[0][0] == "ttwid"
        result = decode_fetch_result(fetched.body)
        assert result.is_first and result.push_server and result.route_params
    counts = page_signing(sim).counts
    assert counts[Verdict.VALID] == 2 and counts[Verdict.INVALID] == 0
    assert counts[Verdict.ABSENT] == 0
    # The push session is bound to the browser's User-Agent and cookie, as TikTok binds it.
    assert {s.user_agent for s in sim.sessions.values()} == {UA}
    assert described["jobs"] == 2 and described["failures"] == 0


async def test_unsigned_fetch_is_refused_when_signatures_are_required(
    running_sim: RunningSimulator, sim: Simulator
) -> None:
    page_signing(sim).required = True
    room = sim.room(DEMO_STREAMER)
    assert room is not None
    fetcher = WebcastFetcher(
        webcast_url=running_sim.urls.webcast,
        web_url=running_sim.urls.web,
        signer=PassThroughSigner(),
    )
    with pytest.raises(FetchError, match="HTTP 403"):
        await fetcher.fetch(FetchQuery(room_id=room.room_id))
    assert page_signing(sim).counts[Verdict.ABSENT] == 1


async def test_pages_are_recycled_after_max_uses(make_pool: Callable[..., Any]) -> None:
    async with make_pool(max_uses=2) as pool:
        signer = BrowserSigner(pool)
        for _ in range(5):
            await signer.sign_url(SAMPLE_URL, user_agent=UA)
        assert pool.stats.recycles == 2  # before the 3rd and the 5th job


async def test_a_new_user_agent_gets_a_fresh_page(make_pool: Callable[..., Any]) -> None:
    async with make_pool() as pool:

        async def agent(page: Any) -> str:
            value: str = await page.evaluate("navigator.userAgent")
            return value

        first = await pool.run(agent, user_agent=UA)
        second = await pool.run(agent, user_agent=UA + " Other")
        assert (first, second) == (UA, UA + " Other")
        assert pool.stats.recycles == 1


async def test_jobs_on_one_page_run_one_at_a_time(make_pool: Callable[..., Any]) -> None:
    spans: list[tuple[float, float]] = []

    async def job(page: Any) -> None:
        started = time.monotonic()
        await page.evaluate("new Promise(r => setTimeout(r, 150))")
        spans.append((started, time.monotonic()))

    async with make_pool(pages=1) as pool:
        await asyncio.gather(*(pool.run(job, user_agent=UA) for _ in range(3)))
    spans.sort()
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(spans))


async def test_a_full_queue_is_refused(make_pool: Callable[..., Any]) -> None:
    async def slow(page: Any) -> None:
        await page.evaluate("new Promise(r => setTimeout(r, 400))")

    async with make_pool(pages=1, max_queue=1) as pool:
        running = asyncio.create_task(pool.run(slow, user_agent=UA))
        await asyncio.sleep(0.05)
        waiting = asyncio.create_task(pool.run(slow, user_agent=UA))
        await asyncio.sleep(0.05)
        with pytest.raises(SignerUnavailable, match="busy"):
            await pool.run(slow, user_agent=UA)
        await asyncio.gather(running, waiting)


async def test_a_timeout_recycles_the_page(make_pool: Callable[..., Any]) -> None:
    async def hang(page: Any) -> None:
        await page.evaluate("new Promise(() => {})")

    async def ok(page: Any) -> int:
        value: int = await page.evaluate("1 + 1")
        return value

    async with make_pool(timeout=3.0) as pool:
        with pytest.raises(SignerError, match="timed out") as caught:
            await pool.run(hang, user_agent=UA)
        assert caught.value.status == 504
        assert await pool.run(ok, user_agent=UA) == 2  # a fresh page serves the next job
        assert pool.stats.timeouts == 1 and pool.stats.recycles == 1


async def test_a_page_without_the_script_fails_clearly(
    make_pool: Callable[..., Any], running_sim: RunningSimulator
) -> None:
    start = f"{running_sim.urls.webcast}/room/check_alive/?room_ids=1"  # JSON, no script
    async with make_pool(start_url=start) as pool:
        with pytest.raises(SignerError, match="no signing script"):
            await BrowserSigner(pool).sign_url(SAMPLE_URL, user_agent=UA)


async def test_an_unreachable_start_page_is_an_error(make_pool: Callable[..., Any]) -> None:
    async with make_pool(start_url="http://127.0.0.1:9/@tiktok/live", timeout=5.0) as pool:
        with pytest.raises(SignerError, match="Browser signer failed"):
            await BrowserSigner(pool).sign_url(SAMPLE_URL, user_agent=UA)
        assert pool.ready()  # the browser itself is fine


async def test_a_missing_chromium_is_reported(running_sim: RunningSimulator) -> None:
    urls = running_sim.urls
    pool = BrowserPool(
        BrowserConfig(Path("/nonexistent/chromium"), urls.web, urls.web, urls.webcast)
    )
    with pytest.raises(SignerUnavailable, match="Could not start Chromium"):
        await pool.start()
    assert not pool.ready()
    await pool.close()
