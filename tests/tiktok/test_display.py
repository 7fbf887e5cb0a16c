"""Display API against the simulator: user info fields and scopes, video list paging, query."""

from __future__ import annotations

import pytest

from allin.simulator.open_api.state import SimVideo
from allin.tiktok.client import TikTokClient
from allin.tiktok.errors import TikTokError, TikTokErrorType
from allin.tiktok.models import USER_STATS_FIELDS, engagement_rate
from tests.tiktok.conftest import Sim, connect


def seed_videos(sim: Sim, count: int) -> list[SimVideo]:
    user = sim.world.users[sim.world.current_user]
    user.videos = [
        SimVideo(
            7_300_000_000_000_000_000 + i,
            1_700_000_000 + i * 60,
            f"video {i}",
            view_count=1000 + i,
            like_count=10,
            comment_count=5,
            share_count=5,
        )
        for i in range(count)
    ]
    user.videos.append(SimVideo(7_399_999_999_999_999_999, 1_800_000_000, "private", "SELF_ONLY"))
    return user.videos


async def test_user_info_fields_and_scopes(tiktok: TikTokClient, sim: Sim) -> None:
    tokens = await connect(tiktok)
    sim.world.users[sim.world.current_user].follower_count = 42
    info = await tiktok.user_info(tokens.access_token, ["open_id", *USER_STATS_FIELDS])
    assert info.follower_count == 42 and info.video_count == 0
    with pytest.raises(TikTokError) as caught:
        await tiktok.user_info(tokens.access_token, ["username"])  # needs user.info.profile
    assert (caught.value.code, caught.value.http_status) == ("scope_not_authorized", 401)
    assert caught.value.type is TikTokErrorType.SCOPE_NOT_AUTHORIZED
    sim.config.missing_field_scope_error = "scope_permission_missed"
    with pytest.raises(TikTokError) as caught:
        await tiktok.user_info(tokens.access_token, ["username"])
    assert (caught.value.code, caught.value.http_status) == ("scope_permission_missed", 400)
    with pytest.raises(TikTokError) as caught:
        await tiktok.user_info(tokens.access_token, [])
    assert caught.value.code == "invalid_params"


async def test_video_list_pages_public_videos_by_ms_cursor(tiktok: TikTokClient, sim: Sim) -> None:
    seed_videos(sim, 25)
    tokens = await connect(tiktok)
    first = await tiktok.list_videos(tokens.access_token)
    assert len(first.videos) == 20 and first.has_more
    assert first.videos[0].title == "video 24"  # newest first, private one left out
    assert first.cursor == (first.videos[-1].create_time or 0) * 1000
    second = await tiktok.list_videos(tokens.access_token, cursor=first.cursor)
    assert [v.title for v in second.videos] == [f"video {i}" for i in range(4, -1, -1)]
    assert not second.has_more
    assert len(first.videos[0].id) == 19


async def test_video_query_batches_and_engagement(tiktok: TikTokClient, sim: Sim) -> None:
    videos = seed_videos(sim, 25)
    tokens = await connect(tiktok)
    found = await tiktok.query_videos(tokens.access_token, [str(v.id) for v in videos[:25]])
    assert len(found) == 25 and sim.world.calls["video_query"] == 2
    assert found[0].engagement_rate == engagement_rate(1000, 20) == 2.0
    assert engagement_rate(0, 5) == 0.0


async def test_scope_not_granted(tiktok: TikTokClient) -> None:
    tokens = await connect(tiktok, ("user.info.basic",))
    with pytest.raises(TikTokError) as caught:
        await tiktok.list_videos(tokens.access_token)
    assert caught.value.code == "scope_not_authorized"
    with pytest.raises(TikTokError) as caught:
        await tiktok.creator_info(tokens.access_token)
    assert caught.value.code == "scope_not_authorized"


async def test_missing_or_bad_bearer(tiktok: TikTokClient) -> None:
    with pytest.raises(TikTokError) as caught:
        await tiktok.user_info("act.forged")
    assert (caught.value.code, caught.value.http_status) == ("access_token_invalid", 401)
    assert caught.value.log_id and len(caught.value.log_id) == 34
