"""The X provider over real HTTP against the X simulator: OAuth with PKCE and rotating refresh
tokens, identities, posts with images and processed video, read-back, and every fault mapped
to the kind of error the caller acts on."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from allin.core.clock import utcnow
from allin.simulator.social.common import ManualClock
from allin.simulator.social.x import XConfig, XState, create_x_simulator
from allin.social.providers.base import (
    AccountCredentials,
    ErrorKind,
    LimitScope,
    ProviderConfig,
    PublishRequest,
    PublishState,
    SocialProviderError,
    TokenSet,
)
from allin.social.providers.oauth import code_challenge, new_code_verifier
from allin.social.providers.x import XProvider
from tests.social.providers.support import (
    FAST_RETRY,
    clock_sleep,
    follow_consent,
    image_file,
    video_file,
)
from tests.support.server import serve

REDIRECT = "http://127.0.0.1:5000/api/social/accounts/x/callback"


@dataclass
class Env:
    provider: XProvider
    state: XState
    clock: ManualClock


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    clock = ManualClock()
    app = create_x_simulator(XConfig(clock=clock))
    async with serve(app) as url:
        config = ProviderConfig("sim-x-client-id", "sim-x-client-secret", REDIRECT, url, url)
        provider = XProvider(config, retry=FAST_RETRY, sleep=clock_sleep(clock), timeout=1.0)
        yield Env(provider, app.state.sim, clock)
        await provider.aclose()


async def connect(env: Env, scopes: tuple[str, ...] | None = None) -> TokenSet:
    provider = env.provider
    if scopes is not None:
        provider = XProvider(
            ProviderConfig(
                provider.config.client_id,
                provider.config.client_secret,
                REDIRECT,
                provider.config.api_base_url,
                provider.config.auth_base_url,
                scopes,
            ),
            retry=FAST_RETRY,
        )
    verifier = new_code_verifier()
    callback = await follow_consent(provider.authorization_url("st-1", code_challenge(verifier)))
    assert callback["state"] == "st-1"
    token = await provider.exchange_code(callback["code"], verifier)
    if provider is not env.provider:
        await provider.aclose()
    return token


async def account(env: Env, scopes: tuple[str, ...] | None = None) -> AccountCredentials:
    token = await connect(env, scopes)
    [me] = await env.provider.identities(token)
    return AccountCredentials(me.platform_user_id, token.access_token)


def test_authorization_url_has_pkce_s256_and_space_separated_scopes() -> None:
    config = ProviderConfig("cid", "secret", REDIRECT, "https://api.x.com", "https://x.com")
    verifier = new_code_verifier()
    url = XProvider(config).authorization_url("state-9", code_challenge(verifier))
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert (parts.netloc, parts.path) == ("x.com", "/i/oauth2/authorize")
    assert "scope=tweet.read%20tweet.write" in url
    assert query["code_challenge_method"] == "S256"
    digest = hashlib.sha256(verifier.encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert query["response_type"] == "code" and query["state"] == "state-9"
    assert "offline.access" in query["scope"].split(" ")
    assert 43 <= len(verifier) <= 128


async def test_code_exchange_refresh_rotation_and_revoke(env: Env) -> None:
    token = await connect(env)
    assert token.refresh_token and token.expires_at and token.expires_at > utcnow()
    assert "tweet.write" in token.scopes
    assert "access_token" not in token.raw and "refresh_token" not in token.raw

    rotated = await env.provider.refresh(token)
    assert rotated.refresh_token and rotated.refresh_token != token.refresh_token
    with pytest.raises(SocialProviderError) as spent:
        await env.provider.refresh(token)  # the old refresh token died with the rotation
    assert spent.value.kind is ErrorKind.AUTH and spent.value.reconnect

    fresh = await connect(env)
    await env.provider.revoke(fresh)
    with pytest.raises(SocialProviderError) as revoked:
        await env.provider.identities(fresh)
    assert revoked.value.kind is ErrorKind.AUTH


async def test_wrong_verifier_is_auth(env: Env) -> None:
    callback = await follow_consent(
        env.provider.authorization_url("s", code_challenge(new_code_verifier()))
    )
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.exchange_code(callback["code"], new_code_verifier())
    assert caught.value.kind is ErrorKind.AUTH


async def test_identity(env: Env) -> None:
    [me] = await env.provider.identities(await connect(env))
    assert me.platform_user_id == "2244994945" and me.username == "allin_creator"
    assert me.avatar_url


async def test_publish_text_and_read_back(env: Env) -> None:
    acct = await account(env)
    since = utcnow()
    post = PublishRequest(text="Hello from AllIN https://example.com/a/long/path 日本")
    result = await env.provider.publish(acct, post)
    assert result.state is PublishState.PUBLISHED and result.platform_post_id
    assert env.state.tweets[result.platform_post_id].text == post.text
    found = await env.provider.find_published(acct, post, since)
    assert found is not None and found.platform_post_id == result.platform_post_id
    assert await env.provider.find_published(acct, PublishRequest(text="never sent"), since) is None
    status = await env.provider.publish_status(acct, result.platform_post_id)
    assert status.state is PublishState.PUBLISHED


async def test_publish_with_images(env: Env, tmp_path: Path) -> None:
    acct = await account(env)
    images = [image_file(tmp_path, f"p{i}.png") for i in range(2)]
    result = await env.provider.publish(acct, PublishRequest(text="two", media=images))
    assert result.platform_post_id
    assert len(env.state.tweets[result.platform_post_id].media_ids) == 2


async def test_publish_with_video_waits_for_processing(env: Env, tmp_path: Path) -> None:
    acct = await account(env)
    video = video_file(tmp_path, size=5 * 1024 * 1024)  # two chunks
    result = await env.provider.publish(acct, PublishRequest(text="clip", media=[video]))
    [media_id] = env.state.tweets[result.platform_post_id or ""].media_ids
    assert len(env.state.media[media_id].segments) == 2


async def test_failed_video_processing_is_rejected(env: Env, tmp_path: Path) -> None:
    acct = await account(env)
    env.state.fail_next_media = 1
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(acct, PublishRequest(text="bad", media=[video_file(tmp_path)]))
    assert caught.value.kind is ErrorKind.REJECTED
    assert not env.state.tweets


async def test_expired_token_is_auth(env: Env) -> None:
    acct = await account(env)
    env.clock.advance(7_201)
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(acct, PublishRequest(text="late"))
    assert caught.value.kind is ErrorKind.AUTH and caught.value.http_status == 401


async def test_missing_scope_is_auth(env: Env) -> None:
    acct = await account(env, scopes=("tweet.read", "users.read"))
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(acct, PublishRequest(text="no write scope"))
    assert caught.value.kind is ErrorKind.AUTH


async def test_overlength_and_duplicate_are_rejected(env: Env) -> None:
    acct = await account(env)
    with pytest.raises(SocialProviderError) as long:
        await env.provider.publish(acct, PublishRequest(text="界" * 141))  # 282 weighted
    assert long.value.kind is ErrorKind.REJECTED
    assert XProvider.rules.measure("界" * 141) == 282 > XProvider.rules.text_limit
    await env.provider.publish(acct, PublishRequest(text="same words"))
    with pytest.raises(SocialProviderError) as duplicate:
        await env.provider.publish(acct, PublishRequest(text="same words"))
    assert duplicate.value.kind is ErrorKind.REJECTED
    assert duplicate.value.platform_code == "duplicate"


async def test_rate_limited_carries_the_reset_wait(env: Env) -> None:
    acct = await account(env)
    env.state.faults.inject("tweets.create", "rate_limit")
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(acct, PublishRequest(text="throttled"))
    error = caught.value
    assert error.kind is ErrorKind.RATE_LIMITED
    assert error.retry_after is not None and 0 < error.retry_after <= 901  # whole seconds
    assert error.headers["Retry-After"]
    assert error.scope is LimitScope.ACCOUNT


async def test_the_apps_spent_day_holds_the_app_until_its_reset(env: Env) -> None:
    acct = await account(env)
    env.state.config.app_limits["tweets.create"] = (1, 86_400.0)
    await env.provider.publish(acct, PublishRequest(text="the app's one post today"))
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(acct, PublishRequest(text="over the app's day"))
    error = caught.value
    assert error.kind is ErrorKind.RATE_LIMITED and error.scope is LimitScope.APP
    assert error.reset_at is not None
    assert 86_000 <= (error.reset_at - env.clock.now()).total_seconds() <= 86_401
    env.state.faults.inject("tweets.create", "usage_cap")
    with pytest.raises(SocialProviderError) as capped:
        await env.provider.publish(acct, PublishRequest(text="capped"))
    assert capped.value.scope is LimitScope.APP


async def test_server_error_before_publish_is_transient_and_retried(
    env: Env, tmp_path: Path
) -> None:
    acct = await account(env)
    env.state.faults.inject("media.chunked", "error", status=503)  # one failed initialize
    result = await env.provider.publish(
        acct, PublishRequest(text="retried upload", media=[image_file(tmp_path)])
    )
    assert result.platform_post_id
    env.state.faults.inject("media.chunked", "error", status=503, times=10)
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(
            acct, PublishRequest(text="upload down", media=[image_file(tmp_path)])
        )
    assert caught.value.kind is ErrorKind.TRANSIENT
    assert not [t for t in env.state.tweets.values() if t.text == "upload down"]


async def test_server_error_on_the_post_is_unknown_outcome_and_not_retried(env: Env) -> None:
    acct = await account(env)
    env.state.faults.inject("tweets.create", "error", status=503)
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(acct, PublishRequest(text="maybe"))
    assert caught.value.kind is ErrorKind.UNKNOWN_OUTCOME
    assert env.state.faults.calls["tweets.create"] == 1


async def test_lost_response_is_unknown_outcome_and_read_back_finds_it(env: Env) -> None:
    acct = await account(env)
    since = utcnow() - timedelta(seconds=1)
    env.state.faults.inject("tweets.create", "lost_response", delay=1.5)
    post = PublishRequest(text="did it land?")
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(acct, post)
    assert caught.value.kind is ErrorKind.UNKNOWN_OUTCOME
    found = await env.provider.find_published(acct, post, since)
    assert found is not None and found.platform_post_id in env.state.tweets


async def test_read_back_follows_the_timeline_past_its_first_page(env: Env) -> None:
    acct = await account(env)
    since = utcnow()
    post = PublishRequest(text="The one to find")
    sent = await env.provider.publish(acct, post)
    for index in range(150):  # a busy account: 150 newer posts in the window
        env.clock.advance(0.01)
        env.state.new_tweet(acct.platform_user_id, f"later {index}")
    found = await env.provider.find_published(acct, post, since)
    assert found is not None and found.platform_post_id == sent.platform_post_id
    assert env.state.faults.calls["users.tweets"] == 2
    assert await env.provider.find_published(acct, PublishRequest(text="never"), since) is None
