"""The service facade phase-2 routes call, end to end against the simulator and its webhooks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from allin.core.config import Settings
from allin.core.crypto import EncryptionKey, TokenCipher
from allin.simulator.open_api import SimulatorConfig, create_open_api_simulator
from allin.simulator.open_api.state import SimVideo
from allin.tiktok.client import TikTokClient
from allin.tiktok.errors import TikTokError
from allin.tiktok.models import PrivacyLevel, VideoPostInfo
from allin.tiktok.publish import PollPolicy, PublishState
from allin.tiktok.service import TikTokService, WebhookOutcome
from tests.support.server import serve
from tests.tiktok.conftest import Sim, make_config

CIPHER = TokenCipher([EncryptionKey("svc", b"s" * 32)])


@pytest.fixture
async def stack() -> AsyncIterator[tuple[TikTokService, Sim, list[WebhookOutcome]]]:
    """Simulator -> webhook route -> service, and the service's client -> simulator."""
    outcomes: list[WebhookOutcome] = []
    holder: list[TikTokService] = []
    receiver = FastAPI()

    async def webhook(request: Request) -> Response:
        body = await request.body()
        outcomes.append(
            await holder[0].handle_webhook(request.headers.get("TikTok-Signature"), body)
        )
        return PlainTextResponse("ok")

    receiver.router.add_route("/webhook", webhook, methods=["POST"])
    async with serve(receiver) as receiver_url:
        config = SimulatorConfig(
            webhook_url=receiver_url + "/webhook",
            webhook_duplicates=2,
            processing_delay=0.02,
            moderation_delay=0.02,
        )
        app = create_open_api_simulator(config)
        async with serve(app) as url:
            sim = Sim(url, app.state.sim)
            service = TikTokService(
                TikTokClient(make_config(sim)),
                cipher=CIPHER,
                poll=PollPolicy(initial=0.02, maximum=0.05, timeout=10),
            )
            holder.append(service)
            yield service, sim, outcomes
            await service.aclose()


async def connect(service: TikTokService, user_id: str) -> tuple[str, dict[str, str]]:
    url = await service.start_connect(user_id)
    async with httpx.AsyncClient() as browser:
        response = await browser.get(url)
    query = {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}
    connection = await service.finish_connect(user_id, query)
    return connection.account_id, query


async def wait_for(predicate: Callable[[], bool]) -> None:
    for _ in range(300):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


async def test_connect_state_is_bound_to_the_user(
    stack: tuple[TikTokService, Sim, list[WebhookOutcome]],
) -> None:
    service, sim, _ = stack
    url = await service.start_connect("alice")
    async with httpx.AsyncClient() as browser:
        response = await browser.get(url)
    query = {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}
    with pytest.raises(TikTokError) as caught:
        await service.finish_connect("mallory", query)  # someone else's state
    assert caught.value.code == "state_mismatch"
    with pytest.raises(TikTokError):
        await service.finish_connect("alice", query)  # and it was single-use
    account_id, _ = await connect(service, "alice")
    assert account_id == sim.world.current_user
    me = await service.me(account_id)
    assert me.display_name == "Sim Creator"


async def test_analytics_cached(stack: tuple[TikTokService, Sim, list[WebhookOutcome]]) -> None:
    service, sim, _ = stack
    user = sim.world.users[sim.world.current_user]
    user.follower_count = 7
    user.videos = [
        SimVideo(7_300_000_000_000_000_001, 1_700_000_000, "a", view_count=200, like_count=10),
        SimVideo(7_300_000_000_000_000_002, 1_700_000_100, "b", view_count=300, share_count=5),
    ]
    account_id, _ = await connect(service, "alice")
    snapshot = await service.analytics(account_id)
    assert (snapshot.followers, snapshot.views, snapshot.likes, snapshot.shares) == (7, 500, 10, 5)
    assert snapshot.engagement_rate == 3.0
    assert [v.id for v in snapshot.videos] == ["7300000000000000002", "7300000000000000001"]
    calls = sim.world.calls["video_list"]
    assert await service.analytics(account_id) is snapshot
    assert sim.world.calls["video_list"] == calls
    assert (await service.videos(account_id)).videos[0].title == "b"


async def test_publish_then_webhooks_update_the_journal(
    stack: tuple[TikTokService, Sim, list[WebhookOutcome]], videos: dict[str, Path]
) -> None:
    service, _sim, outcomes = stack
    account_id, _ = await connect(service, "alice")
    info = VideoPostInfo(privacy_level=PrivacyLevel.PUBLIC_TO_EVERYONE, title="hi")
    record = await service.publish_file(account_id, videos["ok"], info)
    assert record.state is PublishState.PROCESSING
    _, status = await service.publish_status(account_id, record.id)
    assert status is not None and status.status in ("PROCESSING_UPLOAD", "PUBLISH_COMPLETE")

    async def journaled() -> PublishState:
        entry = await service.publisher.journal.get(record.id)
        assert entry is not None
        return entry.state

    await wait_for(lambda: sum(not o.duplicate for o in outcomes) >= 2)
    entry = await service.publisher.journal.get(record.id)
    assert entry is not None and entry.state is PublishState.COMPLETE and entry.post_ids
    await wait_for(lambda: len(outcomes) >= 4)
    assert [o.duplicate for o in outcomes].count(True) >= 2
    with pytest.raises(TikTokError) as caught:
        await service.publish_status("someone-else", record.id)
    assert caught.value.code == "invalid_publish_id"
    assert await journaled() is PublishState.COMPLETE


async def test_authorization_removed_webhook_disconnects(
    stack: tuple[TikTokService, Sim, list[WebhookOutcome]],
) -> None:
    service, sim, outcomes = stack
    account_id, _ = await connect(service, "alice")
    sim.world.remove_authorization(sim.world.current_user, reason=1)
    await wait_for(lambda: any(o.account_id == account_id for o in outcomes))
    assert await service.tokens.token_info(account_id) is None


async def test_disconnect_revokes(stack: tuple[TikTokService, Sim, list[WebhookOutcome]]) -> None:
    service, _sim, _ = stack
    account_id, _ = await connect(service, "alice")
    assert await service.disconnect(account_id) is True
    assert await service.tokens.token_info(account_id) is None
    assert await service.disconnect(account_id) is False  # nothing left: still fine


def test_from_settings(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(tiktok_client_key="k", tiktok_client_secret="s")
    service = TikTokService.from_settings(settings)
    assert service.client.config.client_key == "k"
    assert service.state_ttl == settings.tiktok_state_ttl


async def test_sweep_keeps_only_files_of_interrupted_uploads(tmp_path: Path) -> None:
    from allin.tiktok.client import TikTokConfig
    from allin.tiktok.publish import PublishRecord

    config = TikTokConfig(client_key="k", client_secret="s", redirect_uri="http://x/cb")
    service = TikTokService(TikTokClient(config), cipher=CIPHER)
    keep, done, stray = (tmp_path / name for name in ("keep.mp4", "done.mp4", "stray.mp4"))
    for path in (keep, done, stray):
        path.write_bytes(b"v")
    journal = service.publisher.journal
    await journal.save(PublishRecord("r1", "acc", "direct", "FILE_UPLOAD", PublishState.UPLOADING,
                                     file_path=str(keep)))  # fmt: skip
    await journal.save(PublishRecord("r2", "acc", "direct", "FILE_UPLOAD", PublishState.COMPLETE,
                                     file_path=str(done)))  # fmt: skip
    assert await service.sweep_uploads(tmp_path) == 2
    assert [p.name async for p in anyio.Path(tmp_path).iterdir()] == ["keep.mp4"]
    assert await service.sweep_uploads(tmp_path / "missing") == 0
    await service.aclose()
