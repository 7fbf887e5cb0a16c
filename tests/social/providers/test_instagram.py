"""The Instagram provider over real HTTP against the Meta simulator: accounts found through
their Pages, containers fetched from public URLs and polled until ready, carousels, the
publishing quota, the IG error codes, and a publish that answered with an error but happened."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from allin.core.clock import utcnow
from allin.simulator.social.sniff import jpeg, mp4, png
from allin.social.providers.base import (
    ErrorKind,
    LimitScope,
    MediaItem,
    MediaKind,
    PublishRequest,
    PublishState,
    SocialProviderError,
)
from allin.social.providers.instagram import InstagramProvider
from tests.social.providers.meta_env import IG, PAGE, MetaEnv, running

CDN = "https://cdn.example.com/"


@pytest.fixture
async def env() -> AsyncIterator[MetaEnv]:
    async for value in running(InstagramProvider, ig_video_processing_secs=12.0):
        yield value


def hosted(env: MetaEnv, tmp: Path, name: str, data: bytes, kind: MediaKind) -> MediaItem:
    path = tmp / name
    path.write_bytes(data)
    env.state.media_library[CDN + name] = data
    mime = "video/mp4" if kind is MediaKind.VIDEO else "image/jpeg"
    return MediaItem(path, mime, kind, len(data), public_url=CDN + name)


def photo(env: MetaEnv, tmp: Path, name: str = "p.jpg") -> MediaItem:
    return hosted(env, tmp, name, jpeg(1080, 1080), MediaKind.IMAGE)


def reel(env: MetaEnv, tmp: Path, name: str = "r.mp4") -> MediaItem:
    return hosted(env, tmp, name, mp4(256), MediaKind.VIDEO)


async def test_identity_is_the_account_linked_to_the_page(env: MetaEnv) -> None:
    token = await env.login()
    [account] = await env.provider.identities(token)
    assert account.platform_user_id == IG and account.username == "allin.creator"
    assert account.extra["page_id"] == PAGE
    assert account.token is not None and account.token.access_token != token.access_token


async def test_publish_image_then_read_back(env: MetaEnv, tmp_path: Path) -> None:
    _, acct = await env.account()
    since = utcnow()
    post = PublishRequest(text="First post #allin", media=[photo(env, tmp_path)])
    result = await env.provider.publish(acct, post)
    assert result.state is PublishState.PUBLISHED and result.platform_post_id in env.state.ig_media
    assert result.url and result.url.startswith("https://www.instagram.com/p/")
    found = await env.provider.find_published(acct, post, since)
    assert found is not None and found.platform_post_id == result.platform_post_id


async def test_reel_is_polled_until_finished(env: MetaEnv, tmp_path: Path) -> None:
    _, acct = await env.account()
    result = await env.provider.publish(
        acct, PublishRequest(text="reel", media=[reel(env, tmp_path)])
    )
    assert result.state is PublishState.PUBLISHED
    media = env.state.ig_media[result.platform_post_id or ""]
    assert media.product_type == "REELS"


async def test_slow_container_is_processing_then_published_by_status(
    env: MetaEnv, tmp_path: Path
) -> None:
    _, acct = await env.account()
    assert isinstance(env.provider, InstagramProvider)
    env.provider.inline_wait = 0.0  # hand the wait to the caller at once
    result = await env.provider.publish(
        acct, PublishRequest(text="later", media=[reel(env, tmp_path)])
    )
    assert result.state is PublishState.PROCESSING and result.tracking_id
    assert not env.state.ig_media
    still = await env.provider.publish_status(acct, result.tracking_id)
    assert still.state is PublishState.PROCESSING
    env.clock.advance(15)
    done = await env.provider.publish_status(acct, result.tracking_id)
    assert done.state is PublishState.PUBLISHED and done.platform_post_id in env.state.ig_media


async def test_carousel(env: MetaEnv, tmp_path: Path) -> None:
    _, acct = await env.account()
    items = [photo(env, tmp_path, "a.jpg"), photo(env, tmp_path, "b.jpg"), reel(env, tmp_path)]
    result = await env.provider.publish(acct, PublishRequest(text="three", media=items))
    media = env.state.ig_media[result.platform_post_id or ""]
    assert media.media_type == "CAROUSEL_ALBUM" and len(media.children) == 3


async def test_media_without_a_public_url_or_of_a_refused_kind_is_rejected(
    env: MetaEnv, tmp_path: Path
) -> None:
    _, acct = await env.account()
    local = replace(photo(env, tmp_path), public_url=None)
    with pytest.raises(SocialProviderError) as no_url:
        await env.provider.publish(acct, PublishRequest(text="x", media=[local]))
    assert no_url.value.kind is ErrorKind.REJECTED
    png_item = hosted(env, tmp_path, "p.png", png(1080, 1080), MediaKind.IMAGE)
    with pytest.raises(SocialProviderError) as not_jpeg:
        await env.provider.publish(acct, PublishRequest(text="x", media=[png_item]))
    assert not_jpeg.value.kind is ErrorKind.REJECTED
    assert not_jpeg.value.platform_code == "36001/2207005"
    broken = hosted(env, tmp_path, "broken.mp4", b"not a video at all", MediaKind.VIDEO)
    with pytest.raises(SocialProviderError) as bad_video:
        await env.provider.publish(acct, PublishRequest(text="x", media=[broken]))
    assert bad_video.value.kind is ErrorKind.REJECTED


async def test_overlength_caption_is_rejected(env: MetaEnv, tmp_path: Path) -> None:
    _, acct = await env.account()
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(
            acct, PublishRequest(text="y" * 2_201, media=[photo(env, tmp_path)])
        )
    assert caught.value.kind is ErrorKind.REJECTED
    assert caught.value.platform_code == "36004/2207010"


async def test_quota_reached_is_rate_limited(env: MetaEnv, tmp_path: Path) -> None:
    _, acct = await env.account()
    env.state.config.publish_quota = 1
    await env.provider.publish(acct, PublishRequest(text="one", media=[photo(env, tmp_path)]))
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(acct, PublishRequest(text="two", media=[photo(env, tmp_path)]))
    assert caught.value.kind is ErrorKind.RATE_LIMITED and caught.value.retry_after
    assert caught.value.scope is LimitScope.ACCOUNT  # a quota per Instagram account


async def test_throttled_account_reads_the_usage_header(env: MetaEnv, tmp_path: Path) -> None:
    _, acct = await env.account()
    env.state.faults.inject("ig.media_publish", "rate_limit")
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(acct, PublishRequest(text="t", media=[photo(env, tmp_path)]))
    assert caught.value.kind is ErrorKind.RATE_LIMITED and caught.value.platform_code == "80002"


async def test_missing_permission_and_dead_token_are_auth(env: MetaEnv, tmp_path: Path) -> None:
    narrow = InstagramProvider(
        env.config(("instagram_basic", "pages_show_list", "pages_read_engagement"))
    )
    try:
        _, limited = await env.account(narrow)
    finally:
        await narrow.aclose()
    with pytest.raises(SocialProviderError) as scope:
        await env.provider.publish(limited, PublishRequest(text="x", media=[photo(env, tmp_path)]))
    assert scope.value.kind is ErrorKind.AUTH
    _, acct = await env.account()
    env.state.invalidate_user("10158000000000001", 458)
    with pytest.raises(SocialProviderError) as dead:
        await env.provider.publish(acct, PublishRequest(text="x", media=[photo(env, tmp_path)]))
    assert dead.value.kind is ErrorKind.AUTH


async def test_server_error_on_media_publish_is_unknown_outcome(
    env: MetaEnv, tmp_path: Path
) -> None:
    _, acct = await env.account()
    env.state.faults.inject("ig.media", "error", status=500)  # container creation: retried
    env.state.faults.inject("ig.media_publish", "error", status=500)
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(acct, PublishRequest(text="m", media=[photo(env, tmp_path)]))
    assert caught.value.kind is ErrorKind.UNKNOWN_OUTCOME
    assert env.state.faults.calls["ig.media_publish"] == 1


async def test_a_publish_error_that_succeeded_is_found_by_read_back(
    env: MetaEnv, tmp_path: Path
) -> None:
    _, acct = await env.account()
    since = utcnow()
    post = PublishRequest(text="It did go out", media=[photo(env, tmp_path)])
    env.state.faults.inject("ig.media_publish", "phantom_error")
    with pytest.raises(SocialProviderError) as caught:
        await env.provider.publish(acct, post)
    assert caught.value.kind is ErrorKind.UNKNOWN_OUTCOME
    found = await env.provider.find_published(acct, post, since)
    assert found is not None and found.platform_post_id in env.state.ig_media


async def test_read_back_follows_the_cursor_past_the_first_page(tmp_path: Path) -> None:
    async for env in running(InstagramProvider, publish_quota=500, container_cap=500):
        _, acct = await env.account()
        since = utcnow()
        post = PublishRequest(text="The one to find", media=[photo(env, tmp_path)])
        sent = await env.provider.publish(acct, post)
        for index in range(105):  # more media since the attempt than one page holds
            env.clock.advance(0.01)
            later = PublishRequest(text=f"later {index}", media=[photo(env, tmp_path)])
            await env.provider.publish(acct, later)
        found = await env.provider.find_published(acct, post, since)
        assert found is not None and found.platform_post_id == sent.platform_post_id
