"""Media validation with ffprobe on tiny real videos made by ffmpeg, plus the pure parser."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allin.tiktok.errors import TikTokError
from allin.tiktok.media import MediaInfo, check_video_file, parse_ffprobe, probe, video_problems


async def test_good_videos_pass(videos: dict[str, Path]) -> None:
    for name, container, kind in [
        ("ok", "mp4", "video/mp4"),
        ("mov", "mov", "video/quicktime"),
        ("webm", "webm", "video/webm"),
    ]:
        info = await check_video_file(videos[name])
        assert info.container == container and info.content_type == kind
        assert (info.width, info.height) == (360, 640)
        assert info.fps == 30.0
        assert info.duration == pytest.approx(3.5, abs=0.1)
        assert info.size == videos[name].stat().st_size


@pytest.mark.parametrize(
    ("name", "code", "max_duration"),
    [
        ("short", "video_duration_too_short", None),
        ("long", "video_duration_too_long", 5),
        ("slow_fps", "frame_rate_check_failed", None),
        ("tiny", "picture_size_check_failed", None),
        ("mkv_h264", "video_format_invalid", None),
        ("mpeg4", "video_format_invalid", None),
    ],
)
async def test_each_failure_named(
    videos: dict[str, Path], name: str, code: str, max_duration: int | None
) -> None:
    with pytest.raises(TikTokError) as caught:
        await check_video_file(videos[name], max_duration=max_duration)
    assert caught.value.code == code


async def test_not_a_video(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all")
    with pytest.raises(TikTokError) as caught:
        await probe(junk)
    assert caught.value.code == "video_format_invalid"


def test_size_limit_and_all_problems_reported() -> None:
    info = MediaInfo("mp4", "h264", 200, 5000, 90.0, 700.0, 4_000_000_001)
    codes = [p.code for p in video_problems(info)]
    assert codes == [
        "video_size_too_large",
        "video_duration_too_long",
        "frame_rate_check_failed",
        "picture_size_check_failed",
    ]


def test_parse_ffprobe_shapes() -> None:
    data = {
        "format": {
            "format_name": "mov,mp4,m4a,3gp,3g2,mj2",
            "duration": "12.5",
            "tags": {"major_brand": "qt  "},
        },
        "streams": [
            {"codec_type": "video", "codec_name": "mjpeg", "disposition": {"attached_pic": 1}},
            {
                "codec_type": "video",
                "codec_name": "hevc",
                "width": 1080,
                "height": 1920,
                "avg_frame_rate": "0/0",
                "r_frame_rate": "30000/1001",
            },
        ],
    }
    info = parse_ffprobe(data, 10)
    assert (info.container, info.video_codec) == ("mov", "hevc")
    assert info.fps == pytest.approx(29.97, abs=0.01)
    assert video_problems(info) == []
    assert parse_ffprobe({}, 0).container == "unknown"


@given(
    st.dictionaries(
        st.sampled_from(["format", "streams"]),
        st.one_of(
            st.none(), st.dictionaries(st.text(max_size=5), st.text(max_size=5)), st.just([])
        ),
    )
)
def test_parser_never_crashes(data: dict[str, object]) -> None:
    info = parse_ffprobe(data, 1)  # type: ignore[arg-type]
    assert isinstance(video_problems(info), list)
