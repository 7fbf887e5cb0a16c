"""A video through the media library (typed, probed with ffprobe, thumbnailed with ffmpeg)
and published to TikTok by the queue: TikTok answers with a publish id while it processes
the video, and the queue polls the publish status until the post is complete."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from allin.core.clock import clock
from allin.posts.models import Post, PostTarget, TargetStatus
from allin.simulator.open_api import SimulatorConfig
from tests.posts.conftest import add_due_targets
from tests.posts.connected import Connected, connected
from tests.posts.test_platform_faults import _publisher, _row, _step
from tests.tiktok.conftest import Sim, sim  # fixture
from tests.tiktok.routes import sim_settings

__all__ = ["sim"]
PROCESSING = 0.4  # seconds TikTok takes over the video once it has it


@pytest.fixture
def sim_config() -> SimulatorConfig:
    config = SimulatorConfig(processing_delay=PROCESSING, moderation_delay=0.05, tick_interval=0.02)
    config.redirect_uris.append("http://127.0.0.1:*/api/social/accounts/tiktok/callback")
    return config


@pytest.fixture
async def env(
    engine: AsyncEngine, base_values: dict[str, Any], sim: Sim
) -> AsyncIterator[Connected]:
    async with connected(base_values, **sim_settings(sim)) as running:
        yield running


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Four seconds of 9:16 video at 30 frames a second, H.264 in MP4."""
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=360x640:rate=30",
            "-t", "4", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast",
            str(path),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip
    return path.read_bytes()


async def _upload(env: Connected, data: bytes) -> dict[str, Any]:
    response = await env.client.post(
        "/api/media",
        params={"filename": "clip.mov"},  # the name lies; the bytes say MP4
        content=data,
        headers=env.owner.headers,
    )
    assert response.status_code == 201, response.text
    media: dict[str, Any] = response.json()["data"]
    return media


async def test_a_video_is_typed_probed_and_thumbnailed(env: Connected, clip: bytes) -> None:
    media = await _upload(env, clip)
    assert (media["mime_type"], media["kind"]) == ("video/mp4", "video")
    assert (media["width"], media["height"]) == (360, 640)
    assert media["duration_seconds"] == pytest.approx(4.0, abs=0.1)
    assert media["frame_rate"] == pytest.approx(30.0)
    assert media["size_bytes"] == len(clip)
    thumb = await env.client.get(f"/api/media/{media['id']}/thumbnail", headers=env.owner.headers)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert thumb.content.startswith(b"\xff\xd8\xff")
    size = _jpeg_size(thumb.content)
    assert size == (320, 568)  # 320 wide, the height kept even


async def test_an_unreadable_video_is_kept_without_probe_or_thumbnail(env: Connected) -> None:
    # An MP4 header and nothing a decoder can use: stored, typed, but nothing to measure.
    broken = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
    media = await _upload(env, broken)
    assert media["kind"] == "video" and media["width"] is None
    assert media["duration_seconds"] is None
    thumb = await env.client.get(f"/api/media/{media['id']}/thumbnail", headers=env.owner.headers)
    assert thumb.status_code == 404 and thumb.json()["error"]["code"] == "MEDIA_001"


async def test_tiktok_processing_is_polled_until_the_post_is_complete(
    env: Connected, sessions: async_sessionmaker[AsyncSession], sim: Sim, clip: bytes
) -> None:
    (account,) = await env.connect("tiktok")
    media = await _upload(env, clip)
    (target_id,) = await add_due_targets(
        sessions, env.owner_id, 1, clock.now(), uuid.UUID(account["id"]), "tiktok", "my clip"
    )
    await _attach(sessions, target_id, media["id"])
    publisher = _publisher(env, sessions, posts_reconcile_interval=0.1)

    assert await _step(publisher, target_id) is TargetStatus.UNCONFIRMED
    sent = await _row(sessions, target_id)
    assert sent.tracking_id and sent.tracking_id.startswith("v_pub_")
    statuses = []
    for _ in range(50):
        status = await _step(publisher, target_id)
        statuses.append(status)
        if status is not TargetStatus.UNCONFIRMED:
            break
    assert statuses[-1] is TargetStatus.PUBLISHED
    assert len(statuses) >= 2  # at least one answer was "still processing"
    row = await _row(sessions, target_id)
    assert row.attempts == 1 and row.checks == len(statuses) - 1
    publishes = list(sim.world.publishes.values())
    assert [p.publish_id for p in publishes] == [row.tracking_id]
    assert publishes[0].status == "PUBLISH_COMPLETE"


async def test_a_video_tiktok_refuses_while_processing_fails_with_its_reason(
    env: Connected, sessions: async_sessionmaker[AsyncSession], sim: Sim, clip: bytes
) -> None:
    (account,) = await env.connect("tiktok")
    media = await _upload(env, clip)
    (target_id,) = await add_due_targets(
        sessions, env.owner_id, 1, clock.now(), uuid.UUID(account["id"]), "tiktok", "my clip"
    )
    await _attach(sessions, target_id, media["id"])
    publisher = _publisher(env, sessions)
    assert await _step(publisher, target_id) is TargetStatus.UNCONFIRMED
    (publish,) = sim.world.publishes.values()
    publish.forced_fail = "frame_rate_check_failed"
    for _ in range(50):
        status = await _step(publisher, target_id)
        if status is not TargetStatus.UNCONFIRMED:
            break
        await asyncio.sleep(0.05)
    assert status is TargetStatus.FAILED
    row = await _row(sessions, target_id)
    assert row.last_error and "frame_rate_check_failed" in row.last_error


async def _attach(
    sessions: async_sessionmaker[AsyncSession], target_id: uuid.UUID, media_id: str
) -> None:
    async with sessions() as session, session.begin():
        target = await session.get(PostTarget, target_id)
        assert target is not None
        await session.execute(
            update(Post).where(Post.id == target.post_id).values(media_ids=[media_id])
        )


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """Width and height from the JPEG's start-of-frame segment."""
    index = 2
    while index < len(data):
        marker, length = data[index + 1], int.from_bytes(data[index + 2 : index + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            height = int.from_bytes(data[index + 5 : index + 7], "big")
            width = int.from_bytes(data[index + 7 : index + 9], "big")
            return width, height
        index += 2 + length
    raise AssertionError("no start-of-frame segment")
