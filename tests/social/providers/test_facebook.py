"""The Facebook Pages provider over real HTTP against the Meta simulator: Facebook Login with
the long-lived exchange, one identity per Page with its own token, text, photo, multi-photo
and video posts, the Graph error table, and the 400 that actually succeeded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from allin.core.clock import utcnow
from allin.social.providers.base import (
    ErrorKind,
    LimitScope,
    ProviderConfig,
    PublishRequest,
    PublishState,
    SocialProviderError,
)
from allin.social.providers.facebook import FacebookProvider
from tests.social.providers.meta_env import APP_ID, IG, PAGE, REDIRECT, MetaEnv, running
from tests.social.providers.support import FAST_RETRY, image_file, video_file


@pytest.fixture
async def env() -> AsyncIterator[MetaEnv]:
    async for value in running(FacebookProvider):
        yield value


def test_authorization_url_shape() -> None:
    config = ProviderConfig(
        APP_ID, "s", REDIRECT, "https://graph.facebook.com", "https://www.facebook.com"
    )
    url = FacebookProvider(config).authorization_url("xyz")
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert (parts.netloc, parts.path) == ("www.facebook.com", "/v25.0/dialog/oauth")
    assert (
        query["scope"] == "pages_show_list,pages_read_engagement,pages_manage_posts,publish_video"
    )
    assert query["response_type"] == "code" and query["state"] == "xyz"
    assert "client_secret" not in url


async def test_login_gives_a_long_lived_token_and_page_identities(env: MetaEnv) -> None:
    token = await env.login()
    assert token.refresh_token is None and token.expires_at is not None
    assert (token.expires_at - utcnow()) > timedelta(days=59)
    [page] = await env.provider.identities(token)
    assert page.platform_user_id == PAGE and page.display_name == "AllIN Creator Page"
    assert page.token is not None and page.token.access_token != token.access_token
    assert page.token.expires_at is None
    assert page.extra["instagram_business_account_id"] == IG
    renewed = await env.provider.refresh(token)
    assert renewed.access_token != token.access_token and renewed.expires_at


async def test_revoke_kills_user_and_page_tokens(env: MetaEnv) -> None:
    token = await env.login()
    [page] = await env.provider.identities(token)
    await env.provider.revoke(token)
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.identities(token)
    assert caught.value.kind is ErrorKind.AUTH and caught.value.platform_code == "190/458"
    assert page.token is not None


async def test_expired_user_token_cannot_be_refreshed(env: MetaEnv) -> None:
    token = await env.login()
    env.clock.advance(61 * 86_400)
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.refresh(token)
    assert caught.value.kind is ErrorKind.AUTH and caught.value.platform_code == "190/463"


async def test_publish_text_and_read_back(env: MetaEnv) -> None:
    _, acct = await env.account()
    since = utcnow()
    post = PublishRequest(text="Hello Page", options={"link": "https://example.com/x"})
    result = await env.provider.publish(acct, post)
    assert result.state is PublishState.PUBLISHED and result.platform_post_id
    assert result.platform_post_id.startswith(f"{PAGE}_")
    assert env.state.posts[result.platform_post_id].link == "https://example.com/x"
    found = await env.provider.find_published(acct, post, since)
    assert found is not None and found.platform_post_id == result.platform_post_id
    assert await env.provider.find_published(acct, PublishRequest(text="nope"), since) is None


async def test_publish_photo_photos_and_video(env: MetaEnv, tmp_path: Path) -> None:
    _, acct = await env.account()
    photo = await env.provider.publish(
        acct, PublishRequest(text="one photo", media=[image_file(tmp_path)])
    )
    assert env.state.posts[photo.platform_post_id or ""].photo_ids
    album = await env.provider.publish(
        acct,
        PublishRequest(
            text="two photos", media=[image_file(tmp_path, "a.png"), image_file(tmp_path, "b.png")]
        ),
    )
    assert len(env.state.posts[album.platform_post_id or ""].photo_ids) == 2
    video = await env.provider.publish(
        acct, PublishRequest(text="a clip", media=[video_file(tmp_path)])
    )
    assert video.state is PublishState.PROCESSING and video.tracking_id
    pending = await env.provider.publish_status(acct, video.tracking_id)
    assert pending.state is PublishState.PROCESSING
    env.clock.advance(3)
    done = await env.provider.publish_status(acct, video.tracking_id)
    assert done.state is PublishState.PUBLISHED and done.platform_post_id in env.state.posts


async def test_duplicate_and_overlength_are_rejected(env: MetaEnv) -> None:
    _, acct = await env.account()
    await env.provider.publish(acct, PublishRequest(text="twice"))
    with pytest.raises(SocialProviderError) as duplicate:
        await env.provider.publish(acct, PublishRequest(text="twice"))
    assert duplicate.value.kind is ErrorKind.REJECTED and duplicate.value.platform_code == "506"
    with pytest.raises(SocialProviderError) as long:
        await env.provider.publish(acct, PublishRequest(text="x" * 63_207))
    assert long.value.kind is ErrorKind.REJECTED


async def test_password_change_and_missing_permission_are_auth(env: MetaEnv) -> None:
    narrow = FacebookProvider(env.config(("pages_show_list",)), retry=FAST_RETRY)
    try:
        _, limited = await env.account(narrow)
    finally:
        await narrow.aclose()
    with pytest.raises(SocialProviderError) as scope:
        await env.provider.publish(limited, PublishRequest(text="no permission"))
    assert scope.value.kind is ErrorKind.AUTH and scope.value.platform_code == "200"
    _, acct = await env.account()
    env.state.invalidate_user("10158000000000001", 460)
    with pytest.raises(SocialProviderError) as dead:
        await env.provider.publish(acct, PublishRequest(text="after password change"))
    assert dead.value.kind is ErrorKind.AUTH and dead.value.platform_code == "190/460"


async def test_throttled_page_reads_the_usage_header(env: MetaEnv) -> None:
    _, acct = await env.account()
    env.state.faults.inject("page.feed", "rate_limit")
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(acct, PublishRequest(text="throttled"))
    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.platform_code == "80001" and caught.value.retry_after
    assert caught.value.scope is LimitScope.ACCOUNT  # the Page's business use case


async def test_the_apps_limit_holds_the_app(env: MetaEnv) -> None:
    _, acct = await env.account()
    env.state.faults.inject("page.feed", "usage_cap")
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(acct, PublishRequest(text="app limited"))
    assert caught.value.kind is ErrorKind.RATE_LIMITED and caught.value.platform_code == "341"
    assert caught.value.scope is LimitScope.APP and caught.value.reset_at is not None


async def test_server_errors_before_and_after_the_post(env: MetaEnv, tmp_path: Path) -> None:
    _, acct = await env.account()
    env.state.faults.inject("page.photos", "error", status=500)  # staging a photo is retried
    album = await env.provider.publish(
        acct,
        PublishRequest(
            text="album", media=[image_file(tmp_path, "a.png"), image_file(tmp_path, "b.png")]
        ),
    )
    assert album.platform_post_id in env.state.posts
    env.state.faults.inject("page.feed", "error", status=503)
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(acct, PublishRequest(text="maybe"))
    assert caught.value.kind is ErrorKind.UNKNOWN_OUTCOME


async def test_a_400_that_succeeded_is_found_by_read_back(env: MetaEnv) -> None:
    _, acct = await env.account()
    since = utcnow()
    post = PublishRequest(text="Posted despite the error")
    env.state.faults.inject("page.feed", "phantom_error")
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(acct, post)
    assert caught.value.kind is ErrorKind.UNKNOWN_OUTCOME and caught.value.http_status == 400
    found = await env.provider.find_published(acct, post, since)
    assert found is not None and found.platform_post_id in env.state.posts


async def test_read_back_follows_the_cursor_past_the_first_page(env: MetaEnv) -> None:
    _, acct = await env.account()
    since = utcnow()
    post = PublishRequest(text="The one to find")
    sent = await env.provider.publish(acct, post)
    for index in range(105):  # a busy Page: more posts since the attempt than one page holds
        env.clock.advance(0.01)
        await env.provider.publish(acct, PublishRequest(text=f"later {index}"))
    found = await env.provider.find_published(acct, post, since)
    assert found is not None and found.platform_post_id == sent.platform_post_id
    assert await env.provider.find_published(acct, PublishRequest(text="never"), since) is None
