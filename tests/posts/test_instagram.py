"""Instagram through the queue: Meta fetches the image from a signed, expiring link to the
media library (over real HTTP from the simulator to the app), the container is polled while
IN_PROGRESS, and a publish whose answer is lost is confirmed with the media id once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from allin.core.clock import clock
from allin.posts.media import media_links
from allin.posts.models import TargetStatus
from allin.posts.publisher import UNCONFIRMED_CODE
from allin.social.providers.base import Platform, ProviderConfig
from allin.social.providers.instagram import InstagramProvider
from allin.social.registry import ProviderFactory
from tests.posts.conftest import add_due_targets
from tests.posts.connected import Connected, connected, square_jpeg
from tests.posts.test_platform_faults import TIMEOUT, _publisher, _row, _step
from tests.posts.test_processing import _attach

PROCESSING = 60.0  # seconds (of the simulator's clock) Meta takes over the container


@pytest.fixture
async def env(engine: AsyncEngine, base_values: dict[str, Any]) -> AsyncIterator[Connected]:
    async with connected(base_values, social_timeout=TIMEOUT) as running:
        running.sim("meta").config.fetch_urls = True  # Meta fetches media over HTTP
        # Poll the container from the queue instead of holding the publish open.
        service = running.service()
        rules = service.registry.rules(Platform.INSTAGRAM)
        service.registry.register(Platform.INSTAGRAM, ProviderFactory(rules, _instagram))
        yield running


def _instagram(config: ProviderConfig) -> InstagramProvider:
    return InstagramProvider(config, timeout=TIMEOUT, inline_wait=0.0, poll_interval=0.01)


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return square_jpeg(tmp_path_factory.mktemp("photo"))


async def _instagram_target(
    env: Connected, sessions: async_sessionmaker[AsyncSession], photo: bytes
) -> tuple[str, uuid.UUID, str]:
    (account,) = await env.connect("instagram")
    upload = await env.client.post("/api/media", content=photo, headers=env.owner.headers)
    assert upload.status_code == 201, upload.text
    media_id = upload.json()["data"]["id"]
    (target_id,) = await add_due_targets(
        sessions, env.owner_id, 1, clock.now(), uuid.UUID(account["id"]), "instagram", "sunrise"
    )
    await _attach(sessions, target_id, media_id)
    return account["id"], target_id, media_id


async def test_a_container_in_progress_is_polled_then_published_once(
    env: Connected, sessions: async_sessionmaker[AsyncSession], photo: bytes
) -> None:
    meta = env.sim("meta")
    meta.config.image_processing_secs = PROCESSING
    account_id, target_id, _ = await _instagram_target(env, sessions, photo)
    publisher = _publisher(env, sessions)

    assert await _step(publisher, target_id) is TargetStatus.UNCONFIRMED
    container = (await _row(sessions, target_id)).tracking_id
    assert container is not None
    assert await _step(publisher, target_id) is TargetStatus.UNCONFIRMED  # IN_PROGRESS
    assert (await _row(sessions, target_id)).checks == 1
    assert await env.instagram_media(account_id) == []

    meta.config.clock.advance(PROCESSING)
    assert await _step(publisher, target_id) is TargetStatus.PUBLISHED
    row = await _row(sessions, target_id)
    shown = await env.instagram_media(account_id)
    assert [m["id"] for m in shown] == [row.platform_post_id]
    assert shown[0]["caption"] == "sunrise 0"
    assert row.tracking_id == container and row.attempts == 1


async def test_a_container_that_never_finishes_fails_asking_to_check_the_account(
    env: Connected, sessions: async_sessionmaker[AsyncSession], photo: bytes
) -> None:
    env.sim("meta").config.image_processing_secs = PROCESSING  # and the clock stands still
    account_id, target_id, _ = await _instagram_target(env, sessions, photo)
    publisher = _publisher(env, sessions, posts_reconcile_max=3)
    assert await _step(publisher, target_id) is TargetStatus.UNCONFIRMED  # sent: IN_PROGRESS
    assert await _step(publisher, target_id) is TargetStatus.UNCONFIRMED  # check 1
    assert await _step(publisher, target_id) is TargetStatus.UNCONFIRMED  # check 2
    assert await _step(publisher, target_id) is TargetStatus.FAILED  # check 3: the limit
    row = await _row(sessions, target_id)
    assert row.last_error_code == UNCONFIRMED_CODE == "POST_005"
    assert row.last_error == (
        "instagram did not confirm the post after 3 checks. "
        "Look for it on the instagram account: if it is not there, retry it."
    )
    assert await env.instagram_media(account_id) == []  # nothing was sent twice either


async def test_a_lost_answer_to_media_publish_is_confirmed_with_the_media_id(
    env: Connected, sessions: async_sessionmaker[AsyncSession], photo: bytes
) -> None:
    account_id, target_id, _ = await _instagram_target(env, sessions, photo)
    publisher = _publisher(env, sessions)
    env.sim("meta").faults.inject("ig.media_publish", "lost_response", delay=TIMEOUT * 3)

    assert await _step(publisher, target_id) is TargetStatus.UNCONFIRMED
    assert len(await env.instagram_media(account_id)) == 1  # Instagram has it already
    assert await _step(publisher, target_id) is TargetStatus.PUBLISHED
    row = await _row(sessions, target_id)
    assert [m["id"] for m in await env.instagram_media(account_id)] == [row.platform_post_id]


async def test_a_lost_answer_while_publishing_a_finished_container_names_the_media(
    env: Connected, sessions: async_sessionmaker[AsyncSession], photo: bytes
) -> None:
    meta = env.sim("meta")
    meta.config.image_processing_secs = PROCESSING
    account_id, target_id, _ = await _instagram_target(env, sessions, photo)
    publisher = _publisher(env, sessions)
    assert await _step(publisher, target_id) is TargetStatus.UNCONFIRMED  # IN_PROGRESS
    meta.config.clock.advance(PROCESSING)
    meta.faults.inject("ig.media_publish", "lost_response", delay=TIMEOUT * 3)
    assert await _step(publisher, target_id) is TargetStatus.UNCONFIRMED  # sent, no answer
    # The container now says PUBLISHED (it names no media): the account's media do.
    assert await _step(publisher, target_id) is TargetStatus.PUBLISHED
    row = await _row(sessions, target_id)
    shown = await env.instagram_media(account_id)
    assert len(shown) == 1 and row.platform_post_id == shown[0]["id"]


async def test_the_signed_link_serves_one_file_until_it_expires(
    env: Connected, sessions: async_sessionmaker[AsyncSession], photo: bytes
) -> None:
    _, _, media_id = await _instagram_target(env, sessions, photo)
    from allin.core.config import Settings

    links = media_links(Settings(_env_file=None, **env.values))  # type: ignore[call-arg]
    now = clock.now().timestamp()
    url = links.url(uuid.UUID(media_id), now)
    assert url.startswith(f"{env.values['public_url']}/api/media/public/{media_id}/")
    async with httpx.AsyncClient() as anyone:  # no credentials: the link is the credential
        served = await anyone.get(url)
        assert served.status_code == 200 and served.content == photo
        assert served.headers["content-type"] == "image/jpeg"
        path = urlsplit(url).path
        _, expires, signature = path.rsplit("/", 2)
        base = url[: -len(f"/{expires}/{signature}")]
        other = str(uuid.uuid4())
        for bad in (
            f"{base}/{expires}/{'0' * 64}",  # forged signature
            f"{base}/{int(expires) + 1}/{signature}",  # a longer life
            url.replace(media_id, other),  # another file
        ):
            refused = await anyone.get(bad)
            assert refused.status_code == 404 and refused.json()["error"]["code"] == "MEDIA_001"
        expired = links.url(uuid.UUID(media_id), now - links.lifetime - 1)
        assert (await anyone.get(expired)).status_code == 404
