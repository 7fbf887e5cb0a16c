"""What every provider's transport guarantees: the platform's circuit breaker opens on its
outages, and no token or app secret is ever put in a URL (URLs end up in logs)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from allin.core.breaker import BreakerConfig
from allin.core.clock import clock as project_clock
from allin.core.clock import utcnow
from allin.simulator.social.common import ManualClock
from allin.simulator.social.x import XConfig, create_x_simulator
from allin.social.providers.base import (
    AccountCredentials,
    ErrorKind,
    LimitScope,
    MediaKind,
    ProviderConfig,
    PublishRequest,
    SocialProviderError,
)
from allin.social.providers.facebook import FacebookProvider
from allin.social.providers.instagram import InstagramProvider
from allin.social.providers.meta import MetaProvider
from allin.social.providers.oauth import code_challenge, new_code_verifier
from allin.social.providers.registry import meta_scopes
from allin.social.providers.transport import RetryPolicy, platform_breaker
from allin.social.providers.x import XProvider
from tests.social.providers.meta_env import APP_SECRET, MetaEnv, running
from tests.social.providers.support import FAST_RETRY, follow_consent, image_file
from tests.support.server import serve

REDIRECT = "http://127.0.0.1:5000/api/social/accounts/x/callback"


async def test_breaker_opens_after_repeated_outages_and_fails_fast() -> None:
    app = create_x_simulator(XConfig(clock=ManualClock()))
    async with serve(app) as url:
        config = ProviderConfig("sim-x-client-id", "sim-x-client-secret", REDIRECT, url, url)
        breaker = platform_breaker(XProvider.platform, BreakerConfig(failure_threshold=4))
        provider = XProvider(config, retry=FAST_RETRY, breaker=breaker)
        try:
            verifier = new_code_verifier()
            callback = await follow_consent(
                provider.authorization_url("s", code_challenge(verifier))
            )
            token = await provider.exchange_code(callback["code"], verifier)
            app.state.sim.faults.inject("users.me", "error", status=502, times=100)
            for _ in range(2):  # three attempts each
                with pytest.raises(SocialProviderError) as outage:
                    await provider.identities(token)
                assert outage.value.kind is ErrorKind.TRANSIENT
            calls = app.state.sim.faults.calls["users.me"]
            with pytest.raises(SocialProviderError) as open_:
                await provider.identities(token)
            assert open_.value.kind is ErrorKind.TRANSIENT and open_.value.retry_after
            assert app.state.sim.faults.calls["users.me"] == calls  # not sent at all
        finally:
            await provider.aclose()


@pytest.fixture
async def facebook() -> AsyncIterator[MetaEnv]:
    async for value in running(FacebookProvider):
        yield value


def _record(provider: MetaProvider, seen: list[httpx.Request]) -> None:
    async def hook(request: httpx.Request) -> None:
        seen.append(request)

    provider.http.client.event_hooks["request"].append(hook)


async def test_meta_never_puts_tokens_or_the_secret_in_a_url(
    facebook: MetaEnv, tmp_path: Path
) -> None:
    seen: list[httpx.Request] = []
    _record(facebook.provider, seen)
    both = FacebookProvider(facebook.config(meta_scopes()), retry=FAST_RETRY)
    _record(both, seen)
    try:
        token = await facebook.login(both)
    finally:
        await both.aclose()
    [page] = await facebook.provider.identities(token)
    assert page.token is not None
    acct = AccountCredentials(page.platform_user_id, page.token.access_token)
    since = utcnow()
    post = PublishRequest(text="secret-free", media=[image_file(tmp_path)])
    await facebook.provider.publish(acct, post)
    await facebook.provider.find_published(acct, post, since)
    await facebook.provider.refresh(token)
    instagram = InstagramProvider(facebook.config(), retry=FAST_RETRY)
    _record(instagram, seen)
    try:
        [ig] = await instagram.identities(token)
        assert ig.token is not None
        media = image_file(tmp_path, "p.jpg")
        facebook.state.media_library["https://cdn.example.com/p.jpg"] = media.path.read_bytes()
        item = type(media)(
            media.path,
            "image/jpeg",
            MediaKind.IMAGE,
            media.size_bytes,
            public_url="https://cdn.example.com/p.jpg",
        )
        ig_acct = AccountCredentials(ig.platform_user_id, ig.token.access_token)
        await instagram.publish(ig_acct, PublishRequest(text="ig", media=[item]))
    finally:
        await instagram.aclose()
    secrets = {token.access_token, page.token.access_token, APP_SECRET}
    assert len(seen) > 10
    for request in seen:
        url, names = str(request.url), set(request.url.params.keys())
        assert not names & {"access_token", "client_secret", "fb_exchange_token", "code"}
        assert not any(secret in url for secret in secrets), url
    await asyncio.sleep(0)


async def test_a_safe_step_waits_out_a_short_rate_window_and_surfaces_a_long_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """X's x-rate-limit-reset is the wait: a read whose window ends within the policy's
    bound is retried after it; a longer one is left to the caller with its scope and end."""
    offset = [0.0]
    monkeypatch.setattr(
        project_clock,
        "now",
        lambda: datetime.fromtimestamp(time.time() + offset[0], UTC),
    )
    app = create_x_simulator(XConfig(clock=project_clock))
    app.state.sim.config.user_limits["users.me"] = 1
    async with serve(app) as url:
        config = ProviderConfig("sim-x-client-id", "sim-x-client-secret", REDIRECT, url, url)
        retry = RetryPolicy(attempts=3, timeout=10, wait_initial=0.01, retry_after_max=3.0)
        provider = XProvider(config, retry=retry)
        try:
            verifier = new_code_verifier()
            callback = await follow_consent(
                provider.authorization_url("s", code_challenge(verifier))
            )
            token = await provider.exchange_code(callback["code"], verifier)
            await provider.identities(token)  # the window's one call
            with pytest.raises(SocialProviderError) as long:
                await provider.identities(token)
            assert long.value.kind is ErrorKind.RATE_LIMITED
            assert long.value.scope is LimitScope.ACCOUNT
            assert long.value.retry_after is not None and long.value.retry_after > 800
            assert long.value.reset_at is not None
            # the window ends within the second before the reset header names: be before it
            offset[0] += (long.value.reset_at - project_clock.now()).total_seconds() - 1.5
            calls = app.state.sim.faults.calls["users.me"]
            [me] = await provider.identities(token)  # 429, waits 1.5 s at most, then 200
            assert me.username
            assert app.state.sim.faults.calls["users.me"] == calls + 2
        finally:
            await provider.aclose()
