"""Publishing against the simulator: direct, inbox, chunked uploads with faults, crash recovery,
PULL_FROM_URL, photos, caps and unaudited clients. Never a double post."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from allin.tiktok.chunks import plan_chunks
from allin.tiktok.client import TikTokClient
from allin.tiktok.errors import TikTokError, TikTokErrorType
from allin.tiktok.models import PhotoPostInfo, PhotoPostMode, PrivacyLevel, VideoPostInfo
from allin.tiktok.publish import InMemoryPublishJournal, PollPolicy, Publisher, PublishState
from allin.tiktok.upload import ChunkUploader
from tests.support.server import serve
from tests.tiktok.conftest import MovableClock, Sim, connect

FAST_POLL = PollPolicy(initial=0.02, factor=1.5, maximum=0.1, timeout=10, post_id_polls=20)
PUBLIC = VideoPostInfo(privacy_level=PrivacyLevel.PUBLIC_TO_EVERYONE, title="hello #allin")


def publisher(client: TikTokClient, journal: InMemoryPublishJournal | None = None) -> Publisher:
    return Publisher(client, journal or InMemoryPublishJournal(), poll=FAST_POLL)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    """66 MB (> 64 MB: must be several chunks), cheap to make."""
    path = tmp_path / "big.mp4"
    block = bytes(range(256)) * 4096
    with path.open("wb") as handle:
        for _ in range(66_000_000 // len(block)):
            handle.write(block)
        handle.write(b"x" * (66_000_000 % len(block)))
    return path


async def test_direct_post_small_video(
    tiktok: TikTokClient, sim: Sim, videos: dict[str, Path]
) -> None:
    tokens = await connect(tiktok)
    progress: list[int] = []
    record = await publisher(tiktok).publish_file(
        tokens.access_token, videos["ok"], PUBLIC, on_progress=lambda done, _: progress.append(done)
    )
    assert record.state is PublishState.COMPLETE
    assert record.publish_id and record.publish_id.startswith("v_pub_file~")
    assert record.post_ids and len(record.post_ids[0]) == 19
    assert progress == [videos["ok"].stat().st_size]
    published = sim.world.publishes[record.publish_id]
    assert published.sha256 == sha256(videos["ok"])
    assert published.title == "hello #allin"
    events = [w.event for w in sim.world.webhooks]
    assert events == ["post.publish.complete", "post.publish.publicly_available"]
    page = await tiktok.list_videos(tokens.access_token)
    assert [v.id for v in page.videos] == list(record.post_ids)


async def test_multi_chunk_upload_with_faults(
    tiktok: TikTokClient, sim: Sim, big_file: Path
) -> None:
    tokens = await connect(tiktok)
    sim.world.fail_chunks.extend([500, 503])  # chunk 1 fails twice, then goes through
    progress: list[int] = []

    def on_progress(done: int, _: int) -> None:
        progress.append(done)
        if len(progress) == 2:
            sim.world.lose_chunk_replies = 1  # chunk 3 is stored but its reply is lost

    record = await publisher(tiktok).publish_file(
        tokens.access_token, big_file, PUBLIC, validate_media=False, on_progress=on_progress
    )
    plan = plan_chunks(66_000_000)
    assert plan.total_chunk_count == 6
    assert record.state is PublishState.COMPLETE
    assert progress[-1] == 66_000_000
    assert sim.world.publishes[record.publish_id or ""].sha256 == sha256(big_file)
    assert sim.world.calls["upload"] == 6 + 2 + 1  # two injected 5xx; the lost reply costs a 416
    assert len(sim.world.publishes) == 1


async def test_crash_mid_upload_is_resumed_not_reposted(
    tiktok: TikTokClient, sim: Sim, big_file: Path
) -> None:
    tokens = await connect(tiktok)
    journal = InMemoryPublishJournal()

    class Crash(Exception):
        pass

    def crash_after_two(done: int, _: int) -> None:
        if done >= 20_000_000:
            raise Crash

    with pytest.raises(Crash):
        await publisher(tiktok, journal).publish_file(
            tokens.access_token, big_file, PUBLIC, validate_media=False, on_progress=crash_after_two
        )
    (record,) = await journal.unfinished()
    assert record.state is PublishState.UPLOADING and record.publish_id
    assert sim.world.publishes[record.publish_id].uploaded_bytes == 20_000_000
    # A new process: same journal, fresh publisher.
    done = await publisher(tiktok, journal).reconcile(tokens.access_token, record.id)
    assert done.state is PublishState.COMPLETE
    assert len(sim.world.publishes) == 1
    assert sim.world.publishes[record.publish_id].sha256 == sha256(big_file)
    assert sim.world.calls["video_init"] == 1


async def test_crash_between_init_and_status(
    tiktok: TikTokClient, sim: Sim, videos: dict[str, Path]
) -> None:
    tokens = await connect(tiktok)
    journal = InMemoryPublishJournal()
    record = await publisher(tiktok, journal).publish_file(
        tokens.access_token, videos["ok"], PUBLIC, wait=False
    )
    assert record.state is PublishState.PROCESSING
    done = await publisher(tiktok, journal).reconcile(tokens.access_token, record.id)
    assert done.state is PublishState.COMPLETE
    assert await publisher(tiktok, journal).reconcile(tokens.access_token, record.id) == done
    assert sim.world.calls["video_init"] == 1 and len(sim.world.publishes) == 1


async def test_upload_url_expired_and_unknown(
    tiktok: TikTokClient, sim: Sim, videos: dict[str, Path], moved: MovableClock
) -> None:
    tokens = await connect(tiktok)
    plan = plan_chunks(videos["ok"].stat().st_size)
    init = await tiktok.init_direct_post(tokens.access_token, PUBLIC, plan.source_info())
    assert init.upload_url
    moved.advance(3_601)
    uploader = ChunkUploader(tiktok.upload_transport, init.upload_url, videos["ok"], plan)
    with pytest.raises(TikTokError) as caught:
        await uploader.upload()
    assert (caught.value.code, caught.value.http_status) == ("upload_url_expired", 403)
    bad = init.upload_url.replace("upload_token=", "upload_token=x")
    with pytest.raises(TikTokError) as caught:
        await ChunkUploader(tiktok.upload_transport, bad, videos["ok"], plan).upload()
    assert (caught.value.code, caught.value.http_status) == ("upload_not_found", 404)


async def test_upload_host_rejects_bad_puts(tiktok: TikTokClient, videos: dict[str, Path]) -> None:
    tokens = await connect(tiktok)
    data = videos["ok"].read_bytes()
    plan = plan_chunks(len(data))
    init = await tiktok.init_inbox_upload(tokens.access_token, plan.source_info())
    assert init.upload_url and init.publish_id.startswith("v_inbox_file~")
    async with httpx.AsyncClient() as raw:
        whole = await raw.put(init.upload_url, content=data, headers={"Content-Type": "video/mp4"})
        assert whole.status_code == 400  # no Content-Range (the python-tiktok-poster mistake)
        wrong = await raw.put(
            init.upload_url,
            content=data,
            headers={
                "Content-Type": "video/mp4",
                "Content-Range": f"bytes 1-{len(data)}/{len(data) + 1}",
            },
        )
        assert wrong.status_code == 416
        ok = await raw.put(
            init.upload_url,
            content=data,
            headers={
                "Content-Type": "video/mp4",
                "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}",
            },
        )
        assert ok.status_code == 201
        again = await raw.put(
            init.upload_url,
            content=data,
            headers={
                "Content-Type": "video/mp4",
                "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}",
            },
        )
        assert again.status_code == 416
        assert again.headers["Content-Range"] == f"bytes 0-{len(data) - 1}/{len(data)}"


async def test_init_rejects_bad_chunk_plans(tiktok: TikTokClient) -> None:
    tokens = await connect(tiktok)
    for size, chunk, count in [(15_000_000, 10_000_000, 1), (100_000_000, 64_000_000, 1)]:
        source = {
            "source": "FILE_UPLOAD",
            "video_size": size,
            "chunk_size": chunk,
            "total_chunk_count": count,
        }
        with pytest.raises(TikTokError) as caught:
            await tiktok.init_direct_post(tokens.access_token, PUBLIC, source)
        assert caught.value.code == "invalid_params" and "chunk" in caught.value.message


async def test_inbox_upload_then_user_finishes(
    tiktok: TikTokClient, sim: Sim, videos: dict[str, Path]
) -> None:
    tokens = await connect(tiktok)
    record = await publisher(tiktok).publish_file(tokens.access_token, videos["webm"], None)
    assert record.state is PublishState.INBOX
    assert record.publish_id and record.publish_id.startswith("v_inbox_file~")
    sim.world.complete_inbox(record.publish_id)
    status = await tiktok.fetch_status(tokens.access_token, record.publish_id)
    assert status.status == "PUBLISH_COMPLETE"
    events = [w.event for w in sim.world.webhooks]
    assert events[:2] == ["post.publish.inbox_delivered", "post.publish.complete"]


async def test_processing_failure_is_reported(
    tiktok: TikTokClient, sim: Sim, videos: dict[str, Path]
) -> None:
    tokens = await connect(tiktok)
    sim.world.next_fail_reasons.append("frame_rate_check_failed")
    with pytest.raises(TikTokError) as caught:
        await publisher(tiktok).publish_file(tokens.access_token, videos["ok"], PUBLIC)
    assert caught.value.code == "frame_rate_check_failed"
    assert caught.value.type is TikTokErrorType.VALIDATION_ERROR
    assert sim.world.webhooks[-1].event == "post.publish.failed"


async def test_privacy_checked_against_creator_info_first(
    tiktok: TikTokClient, sim: Sim, videos: dict[str, Path]
) -> None:
    tokens = await connect(tiktok)
    friends_only = VideoPostInfo(privacy_level=PrivacyLevel.FOLLOWER_OF_CREATOR)
    with pytest.raises(TikTokError) as caught:
        await publisher(tiktok).publish_file(tokens.access_token, videos["ok"], friends_only)
    assert caught.value.code == "privacy_level_option_mismatch"
    assert "video_init" not in sim.world.calls
    # The simulator enforces it too, for clients that skip the check.
    plan = plan_chunks(videos["ok"].stat().st_size)
    with pytest.raises(TikTokError) as caught:
        await tiktok.init_direct_post(tokens.access_token, friends_only, plan.source_info())
    assert caught.value.http_status == 403


async def test_creator_max_duration(
    tiktok: TikTokClient, sim: Sim, videos: dict[str, Path]
) -> None:
    tokens = await connect(tiktok)
    sim.world.users[sim.world.current_user].max_video_post_duration_sec = 5
    with pytest.raises(TikTokError) as caught:
        await publisher(tiktok).publish_file(tokens.access_token, videos["long"], PUBLIC)
    assert caught.value.code == "video_duration_too_long"


async def test_daily_cap_arrives_as_http_200(
    tiktok: TikTokClient, sim: Sim, videos: dict[str, Path]
) -> None:
    sim.config.daily_post_cap = 1
    tokens = await connect(tiktok)
    await publisher(tiktok).publish_file(tokens.access_token, videos["ok"], PUBLIC)
    with pytest.raises(TikTokError) as caught:
        await tiktok.creator_info(tokens.access_token)
    assert caught.value.code == "spam_risk_too_many_posts"
    assert caught.value.http_status == 200
    assert caught.value.type is TikTokErrorType.QUOTA_EXCEEDED


async def test_unaudited_client(tiktok: TikTokClient, sim: Sim, videos: dict[str, Path]) -> None:
    sim.config.audited = False
    tokens = await connect(tiktok)
    private = VideoPostInfo(privacy_level=PrivacyLevel.SELF_ONLY)
    with pytest.raises(TikTokError) as caught:
        await publisher(tiktok).publish_file(tokens.access_token, videos["ok"], private)
    assert caught.value.code == "unaudited_client_can_only_post_to_private_accounts"
    sim.world.users[sim.world.current_user].private_account = True
    record = await publisher(tiktok).publish_file(tokens.access_token, videos["ok"], private)
    assert record.state is PublishState.COMPLETE and record.post_ids == ()


# --- PULL_FROM_URL and photos, from a media server on "localhost" ---


@pytest.fixture
async def media(videos: dict[str, Path], sim: Sim) -> AsyncIterator[str]:
    app = FastAPI()

    async def video(_: Request) -> Response:
        return FileResponse(videos["ok"], media_type="video/mp4")

    async def photo(_: Request) -> Response:
        return Response(b"\xff\xd8\xff" + b"0" * 5000, media_type="image/jpeg")

    async def moved_away(_: Request) -> Response:
        return RedirectResponse("/media/ok.mp4")

    async def slow(_: Request) -> Response:
        async def drip() -> AsyncIterator[bytes]:
            for _ in range(200):
                await asyncio.sleep(0.01)
                yield b"0" * 1000

        return StreamingResponse(drip(), media_type="video/mp4")

    app.router.add_route("/media/ok.mp4", video)
    app.router.add_route("/media/photo.jpg", photo)
    app.router.add_route("/media/moved.mp4", moved_away)
    app.router.add_route("/media/slow.mp4", slow)
    sim.config.pull_require_https = False  # loopback tests have no TLS
    sim.config.verified_url_prefixes = []
    async with serve(app) as url:
        base = url.replace("127.0.0.1", "localhost")
        sim.config.verified_url_prefixes.append(base + "/media/")
        yield base + "/media"


async def test_pull_from_url(tiktok: TikTokClient, sim: Sim, media: str) -> None:
    tokens = await connect(tiktok)
    record = await publisher(tiktok).publish_url(tokens.access_token, f"{media}/ok.mp4", PUBLIC)
    assert record.state is PublishState.COMPLETE
    assert record.publish_id and record.publish_id.startswith("v_pub_url~")
    assert sim.world.publishes[record.publish_id].downloaded_bytes > 0


async def test_pull_redirect_fails_and_unverified_rejected(
    tiktok: TikTokClient, sim: Sim, media: str
) -> None:
    tokens = await connect(tiktok)
    with pytest.raises(TikTokError) as caught:
        await publisher(tiktok).publish_url(tokens.access_token, f"{media}/moved.mp4", None)
    assert caught.value.code == "video_pull_failed"
    with pytest.raises(TikTokError) as caught:
        await publisher(tiktok).publish_url(tokens.access_token, "https://cdn.example/v.mp4", None)
    assert caught.value.code == "url_ownership_unverified"
    assert caught.value.type is TikTokErrorType.URL_OWNERSHIP_UNVERIFIED


async def test_pull_init_with_unknown_outcome_is_never_resent(
    tiktok: TikTokClient, sim: Sim, media: str
) -> None:
    tokens = await connect(tiktok)
    sim.world.inject("video_init", 500, "internal_error")
    journal = InMemoryPublishJournal()
    with pytest.raises(TikTokError) as caught:
        await publisher(tiktok, journal).publish_url(tokens.access_token, f"{media}/ok.mp4", PUBLIC)
    assert caught.value.code == "publish_outcome_unknown"
    assert sim.world.calls["video_init"] == 1
    (record,) = journal.records.values()
    assert record.state is PublishState.UNKNOWN
    assert (await publisher(tiktok, journal).reconcile(tokens.access_token, record.id)).state is (
        PublishState.UNKNOWN
    )


async def test_pull_init_rate_limited_is_retried(
    tiktok: TikTokClient, sim: Sim, media: str
) -> None:
    tokens = await connect(tiktok)
    sim.world.inject("video_init", 429, "rate_limit_exceeded", retry_after=0)
    record = await publisher(tiktok).publish_url(tokens.access_token, f"{media}/ok.mp4", PUBLIC)
    assert record.state is PublishState.COMPLETE
    assert sim.world.calls["video_init"] == 2 and len(sim.world.publishes) == 1


async def test_cancel_download(tiktok: TikTokClient, sim: Sim, media: str) -> None:
    tokens = await connect(tiktok)
    record = await publisher(tiktok).publish_url(
        tokens.access_token, f"{media}/slow.mp4", None, wait=False
    )
    assert record.publish_id
    status = await tiktok.fetch_status(tokens.access_token, record.publish_id)
    assert status.status == "PROCESSING_DOWNLOAD"
    await tiktok.cancel(tokens.access_token, record.publish_id)
    status = await tiktok.fetch_status(tokens.access_token, record.publish_id)
    assert (status.status, status.fail_reason) == ("FAILED", "publish_cancelled")
    with pytest.raises(TikTokError) as caught:
        await tiktok.cancel(tokens.access_token, record.publish_id)
    assert caught.value.code == "publish_not_cancellable"


async def test_photo_post(tiktok: TikTokClient, sim: Sim, media: str) -> None:
    tokens = await connect(tiktok)
    info = PhotoPostInfo(title="pics", privacy_level=PrivacyLevel.PUBLIC_TO_EVERYONE)
    record = await publisher(tiktok).publish_photos(
        tokens.access_token, [f"{media}/photo.jpg"] * 3, info, cover_index=2
    )
    assert record.state is PublishState.COMPLETE
    assert record.publish_id and record.publish_id.startswith("p_pub_url~")
    draft = await publisher(tiktok).publish_photos(
        tokens.access_token,
        [f"{media}/photo.jpg"],
        PhotoPostInfo(),
        mode=PhotoPostMode.MEDIA_UPLOAD,
    )
    assert draft.state is PublishState.INBOX
    with pytest.raises(TikTokError) as caught:
        await tiktok.init_photo_post(tokens.access_token, [f"{media}/photo.jpg"] * 36, info)
    assert caught.value.code == "invalid_params"


async def test_status_of_someone_elses_publish(
    tiktok: TikTokClient, sim: Sim, videos: dict[str, Path]
) -> None:
    tokens = await connect(tiktok)
    record = await publisher(tiktok).publish_file(
        tokens.access_token, videos["ok"], PUBLIC, wait=False
    )
    other = sim.world.add_user("other", "Other")
    sim.world.login_as(other.open_id)
    other_tokens = await connect(tiktok)
    with pytest.raises(TikTokError) as caught:
        await tiktok.fetch_status(other_tokens.access_token, record.publish_id or "")
    assert caught.value.code == "token_not_authorized_for_specified_publish_id"
    with pytest.raises(TikTokError) as caught:
        await tiktok.fetch_status(other_tokens.access_token, "v_pub_file~v2-1.1")
    assert caught.value.code == "invalid_publish_id"
