"""The LinkedIn provider over real HTTP against the LinkedIn simulator: OAuth with body
credentials, no refresh for plain apps, OIDC identity, posts with little-text escaping, image,
multi-image and video uploads, the error table, and reconciliation through the duplicate check."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allin.core.clock import utcnow
from allin.simulator.social.common import ManualClock
from allin.simulator.social.linkedin import LinkedInConfig, create_linkedin_simulator
from allin.simulator.social.linkedin.state import LinkedInState
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
from allin.social.providers.linkedin import LinkedInProvider, escape_commentary
from tests.social.providers.support import (
    FAST_RETRY,
    clock_sleep,
    follow_consent,
    image_file,
    video_file,
)
from tests.support.server import serve

CLIENT, SECRET = "sim-linkedin-client-id", "sim-linkedin-client-secret-for-tests"
REDIRECT = "http://127.0.0.1:5000/api/social/accounts/linkedin/callback"
RESERVED = "\\|{}@[]()<>#*_~"


@dataclass
class Env:
    url: str
    provider: LinkedInProvider
    state: LinkedInState
    clock: ManualClock

    def with_scopes(self, *scopes: str, version: str = "202610") -> LinkedInProvider:
        config = ProviderConfig(
            CLIENT, SECRET, REDIRECT, self.url, self.url, scopes, {"version": version}
        )
        return LinkedInProvider(config, retry=FAST_RETRY, sleep=clock_sleep(self.clock))


async def _env(partner: bool = False) -> AsyncIterator[Env]:
    clock = ManualClock()
    app = create_linkedin_simulator(LinkedInConfig(clock=clock, partner=partner))
    async with serve(app) as url:
        config = ProviderConfig(CLIENT, SECRET, REDIRECT, url, url)
        provider = LinkedInProvider(config, retry=FAST_RETRY, sleep=clock_sleep(clock), timeout=1.0)
        yield Env(url, provider, app.state.sim, clock)
        await provider.aclose()


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async for value in _env():
        yield value


@pytest.fixture
async def partner_env() -> AsyncIterator[Env]:
    async for value in _env(partner=True):
        yield value


async def connect(provider: LinkedInProvider) -> TokenSet:
    callback = await follow_consent(provider.authorization_url("st-li"))
    assert callback["state"] == "st-li", callback
    return await provider.exchange_code(callback["code"])


async def account(env: Env, provider: LinkedInProvider | None = None) -> AccountCredentials:
    token = await connect(provider or env.provider)
    [me] = await env.provider.identities(token)
    return AccountCredentials(me.platform_user_id, token.access_token, dict(me.extra))


def test_authorization_url_shape() -> None:
    config = ProviderConfig(
        CLIENT, SECRET, REDIRECT, "https://api.linkedin.com", "https://www.linkedin.com"
    )
    url = LinkedInProvider(config).authorization_url("abc")
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert (parts.netloc, parts.path) == ("www.linkedin.com", "/oauth/v2/authorization")
    assert query["scope"].split(" ") == ["openid", "profile", "email", "w_member_social"]
    assert "scope=openid%20profile" in url
    assert query["response_type"] == "code" and query["redirect_uri"] == REDIRECT
    assert "code_challenge" not in query


@given(st.text())
def test_escaped_commentary_survives_little_text_whole(text: str) -> None:
    escaped = escape_commentary(text)
    # Every reserved character is either escaped or starts a hashtag, so LinkedIn keeps it all.
    i = 0
    while i < len(escaped):
        char = escaped[i]
        if char == "\\":
            assert i + 1 < len(escaped) and escaped[i + 1] in RESERVED
            i += 2
            continue
        assert char not in RESERVED or char == "#"
        i += 1
    assert re.sub(r"\\(.)", r"\1", escaped, flags=re.DOTALL) == text  # nothing lost
    assert LinkedInProvider.rules.measure(text) == len(escaped)


async def test_exchange_identity_no_refresh_and_revoke(env: Env) -> None:
    token = await connect(env.provider)
    assert token.refresh_token is None and token.expires_at
    assert 59 <= (token.expires_at - utcnow()).days <= 60
    assert {"openid", "w_member_social"} <= token.scopes
    [me] = await env.provider.identities(token)
    assert me.platform_user_id == "aB3dE5fG7h" and me.extra["urn"] == "urn:li:person:aB3dE5fG7h"
    assert me.display_name == "Alex Creator"
    assert not LinkedInProvider.can_refresh
    with pytest.raises(SocialProviderError) as no_refresh:
        await env.provider.refresh(token)
    assert no_refresh.value.kind is ErrorKind.AUTH
    await env.provider.revoke(token)
    with pytest.raises(SocialProviderError) as revoked:
        await env.provider.identities(token)
    assert (
        revoked.value.kind is ErrorKind.AUTH
        and revoked.value.platform_code == "REVOKED_ACCESS_TOKEN"
    )


async def test_partner_refresh_keeps_the_refresh_token(partner_env: Env) -> None:
    token = await connect(partner_env.provider)
    assert token.refresh_token and token.refresh_expires_at
    partner_env.clock.advance(86_400)
    fresh = await partner_env.provider.refresh(token)
    assert fresh.refresh_token == token.refresh_token
    assert fresh.access_token != token.access_token


async def test_publish_text_keeps_reserved_characters(env: Env) -> None:
    acct = await account(env)
    text = "Launch (beta) #AllIN with 50% off * today @team [v2] <3 ~ \\o/"
    result = await env.provider.publish(acct, PublishRequest(text=text))
    assert result.state is PublishState.PUBLISHED and result.platform_post_id
    stored = env.state.posts[result.platform_post_id]
    assert stored.commentary == stored.sent_commentary == escape_commentary(text)
    assert result.url == f"https://www.linkedin.com/feed/update/{result.platform_post_id}/"


async def test_publish_with_image_images_and_video(env: Env, tmp_path: Path) -> None:
    acct = await account(env)
    one = await env.provider.publish(acct, PublishRequest(text="one", media=[image_file(tmp_path)]))
    assert (
        env.state.posts[one.platform_post_id or ""]
        .body["content"]["media"]["id"]
        .startswith("urn:li:image:")
    )
    two = await env.provider.publish(
        acct,
        PublishRequest(
            text="two", media=[image_file(tmp_path, "a.png"), image_file(tmp_path, "b.png")]
        ),
    )
    images = env.state.posts[two.platform_post_id or ""].body["content"]["multiImage"]["images"]
    assert len(images) == 2
    clip = video_file(tmp_path, size=5 * 1024 * 1024)  # two upload parts
    video = await env.provider.publish(acct, PublishRequest(text="clip", media=[clip]))
    urn = env.state.posts[video.platform_post_id or ""].body["content"]["media"]["id"]
    assert urn.startswith("urn:li:video:") and len(env.state.assets[urn].parts) == 2


async def test_failed_media_processing_is_rejected(env: Env, tmp_path: Path) -> None:
    acct = await account(env)
    env.state.fail_next_media = 1
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(acct, PublishRequest(text="bad", media=[image_file(tmp_path)]))
    assert caught.value.kind is ErrorKind.REJECTED and not env.state.posts


async def test_expired_token_and_missing_scope_are_auth(env: Env) -> None:
    acct = await account(env)
    env.clock.advance(5_184_001)
    with pytest.raises(SocialProviderError) as expired:
        await env.provider.publish(acct, PublishRequest(text="late"))
    assert expired.value.kind is ErrorKind.AUTH
    assert expired.value.platform_code == "EXPIRED_ACCESS_TOKEN"
    reader = env.with_scopes("openid", "profile")
    try:
        limited = await account(env, reader)
    finally:
        await reader.aclose()
    with pytest.raises(SocialProviderError) as scope:
        await env.provider.publish(limited, PublishRequest(text="no scope"))
    assert scope.value.kind is ErrorKind.AUTH and scope.value.http_status == 403


async def test_inactive_version_is_config(env: Env) -> None:
    acct = await account(env)
    old = env.with_scopes("openid", version="202401")
    try:
        with pytest.raises(SocialProviderError) as caught:
            await old.publish(acct, PublishRequest(text="old version"))
    finally:
        await old.aclose()
    assert (
        caught.value.kind is ErrorKind.CONFIG
        and caught.value.platform_code == "NONEXISTENT_VERSION"
    )


async def test_overlength_is_rejected(env: Env) -> None:
    acct = await account(env)
    text = "(" * 1_600  # 3,200 once escaped
    assert LinkedInProvider.rules.measure(text) > LinkedInProvider.rules.text_limit
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(acct, PublishRequest(text=text))
    assert caught.value.kind is ErrorKind.REJECTED


async def test_duplicate_is_rejected_and_read_back_finds_the_original(env: Env) -> None:
    acct = await account(env)
    since = utcnow()
    post = PublishRequest(text="Same words twice")
    first = await env.provider.publish(acct, post)
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(acct, post)
    assert caught.value.kind is ErrorKind.REJECTED
    assert caught.value.platform_code == "DUPLICATE_POST"
    found = await env.provider.find_published(acct, post, since)
    assert found is not None and found.platform_post_id == first.platform_post_id
    assert len(env.state.posts) == 1


async def test_read_back_with_r_member_social_searches_posts(env: Env) -> None:
    reader = env.with_scopes("openid", "profile", "w_member_social", "r_member_social")
    try:
        acct = await account(env, reader)
        since = utcnow()
        post = PublishRequest(text="Searchable #post")
        first = await reader.publish(acct, post)
        found = await reader.find_published(acct, post, since)
        assert found is not None and found.platform_post_id == first.platform_post_id
        missing = await reader.find_published(acct, PublishRequest(text="never"), since)
        assert missing is None
    finally:
        await reader.aclose()


async def test_throttled_waits_until_utc_midnight(env: Env) -> None:
    acct = await account(env)
    env.state.faults.inject("posts.create", "rate_limit")
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(acct, PublishRequest(text="throttled"))
    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 86_400


async def test_the_member_and_the_app_daily_limits_hold_who_they_name(env: Env) -> None:
    acct = await account(env)
    env.state.config.daily_member_limit = 1
    await env.provider.publish(acct, PublishRequest(text="one"))
    with pytest.raises(SocialProviderError) as member:
        await env.provider.publish(acct, PublishRequest(text="two"))
    assert member.value.scope is LimitScope.ACCOUNT
    env.state.config.daily_member_limit = 10
    env.state.config.daily_app_limit = 1
    with pytest.raises(SocialProviderError) as app:
        await env.provider.publish(acct, PublishRequest(text="three"))
    assert app.value.scope is LimitScope.APP
    assert app.value.reset_at is not None and app.value.reset_at.time() <= time(0, 0, 1)


async def test_server_errors_before_and_after_the_post(env: Env, tmp_path: Path) -> None:
    acct = await account(env)
    env.state.faults.inject("images.initialize", "error", status=500)
    result = await env.provider.publish(
        acct, PublishRequest(text="upload retried", media=[image_file(tmp_path)])
    )
    assert result.platform_post_id in env.state.posts
    env.state.faults.inject("posts.create", "error", status=503)
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(acct, PublishRequest(text="maybe"))
    assert caught.value.kind is ErrorKind.UNKNOWN_OUTCOME
    assert env.state.faults.calls["posts.create"] == 2  # one success above, one failure, no retry


async def test_lost_response_reconciles_through_the_duplicate_check(env: Env) -> None:
    acct = await account(env)
    since = utcnow()
    post = PublishRequest(text="Did this land? (yes)")
    env.state.faults.inject("posts.create", "lost_response", delay=1.5)
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(acct, post)
    assert caught.value.kind is ErrorKind.UNKNOWN_OUTCOME
    [stored] = env.state.posts
    found = await env.provider.find_published(acct, post, since)
    assert found is not None and found.platform_post_id == stored
    assert len(env.state.posts) == 1


async def test_read_back_searches_past_the_first_page_of_posts(env: Env) -> None:
    reader = env.with_scopes("openid", "profile", "w_member_social", "r_member_social")
    try:
        acct = await account(env, reader)
        since = utcnow()
        post = PublishRequest(text="The one to find")
        first = await reader.publish(acct, post)
        for index in range(120):  # more newer posts than one page of the finder holds
            env.clock.advance(0.01)
            await reader.publish(acct, PublishRequest(text=f"later {index}"))
        found = await reader.find_published(acct, post, since)
        assert found is not None and found.platform_post_id == first.platform_post_id
        assert env.state.faults.calls["posts.find"] == 2
    finally:
        await reader.aclose()
