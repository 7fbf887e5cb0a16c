"""Video checks before upload, with ffprobe (Debian package `ffmpeg`).

TikTok's limits (media transfer guide): MP4/MOV/WebM with H.264, H.265, VP8 or VP9; 23-60 FPS;
360-4096 px each side; at most 4 GB; 3 s up to 10 min and the creator's own maximum. Failures use
our own names (video_*), or TikTok's fail_reason names where TikTok has one.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import anyio

from allin.tiktok.chunks import MAX_VIDEO_BYTES
from allin.tiktok.errors import TikTokError

MIN_DURATION = 3.0
MAX_DURATION = 600.0
MIN_FPS, MAX_FPS = 23.0, 60.0
MIN_SIDE, MAX_SIDE = 360, 4096
VIDEO_CODECS = frozenset({"h264", "hevc", "vp8", "vp9"})
WEBM_CODECS = frozenset({"vp8", "vp9"})
CONTENT_TYPES = {"mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm"}


@dataclass(frozen=True, slots=True)
class MediaInfo:
    container: str  # mp4 | mov | webm, or ffprobe's format_name for anything else
    video_codec: str | None
    width: int | None
    height: int | None
    fps: float | None
    duration: float | None
    size: int

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES.get(self.container, "application/octet-stream")


@dataclass(frozen=True, slots=True)
class MediaProblem:
    code: str
    message: str


def parse_ffprobe(data: dict[str, Any], size: int) -> MediaInfo:
    """ffprobe's `-show_format -show_streams` JSON -> MediaInfo (pure; no I/O)."""
    fmt = data.get("format")
    fmt = fmt if isinstance(fmt, dict) else {}
    raw_streams = data.get("streams")
    streams = (
        [s for s in raw_streams if isinstance(s, dict)] if isinstance(raw_streams, list) else []
    )
    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video"
            and not (s.get("disposition") or {}).get("attached_pic")
        ),
        None,
    )
    codec = video.get("codec_name") if video else None
    return MediaInfo(
        container=_container(fmt, codec),
        video_codec=codec,
        width=_int(video.get("width")) if video else None,
        height=_int(video.get("height")) if video else None,
        fps=_fps(video) if video else None,
        duration=_float(fmt.get("duration")) or (_float(video.get("duration")) if video else None),
        size=size,
    )


def video_problems(info: MediaInfo, *, max_duration: float | None = None) -> list[MediaProblem]:
    """Everything TikTok would reject, first the format (nothing else matters if it is wrong)."""
    if info.container not in CONTENT_TYPES or info.video_codec not in VIDEO_CODECS:
        return [
            MediaProblem(
                "video_format_invalid",
                f"{info.container} / {info.video_codec or 'no video'} is not MP4/MOV/WebM "
                "with H.264, H.265, VP8 or VP9",
            )
        ]
    problems: list[MediaProblem] = []
    if info.size > MAX_VIDEO_BYTES:
        problems.append(MediaProblem("video_size_too_large", f"{info.size} bytes is over 4 GB"))
    limit = min(MAX_DURATION, max_duration) if max_duration else MAX_DURATION
    if info.duration is None or info.duration < MIN_DURATION:
        problems.append(
            MediaProblem("video_duration_too_short", f"{info.duration} s is under {MIN_DURATION} s")
        )
    elif info.duration > limit:
        problems.append(
            MediaProblem("video_duration_too_long", f"{info.duration} s is over {limit} s")
        )
    if info.fps is None or not MIN_FPS <= info.fps <= MAX_FPS:
        problems.append(MediaProblem("frame_rate_check_failed", f"{info.fps} FPS is not 23-60"))
    sides = (info.width, info.height)
    if any(side is None or not MIN_SIDE <= side <= MAX_SIDE for side in sides):
        problems.append(
            MediaProblem(
                "picture_size_check_failed", f"{info.width}x{info.height} is not 360-4096 px a side"
            )
        )
    return problems


def validate_video(info: MediaInfo, *, max_duration: float | None = None) -> None:
    problems = video_problems(info, max_duration=max_duration)
    if problems:
        first = problems[0]
        raise TikTokError(first.code, "; ".join(p.message for p in problems))


async def probe(path: Path, *, ffprobe: str = "ffprobe", limit_s: float = 30.0) -> MediaInfo:
    """Run ffprobe on a file; an unreadable file is `video_format_invalid`."""
    binary = shutil.which(ffprobe)
    if binary is None:
        raise RuntimeError("ffprobe not found: install the Debian package 'ffmpeg'")
    process = await asyncio.create_subprocess_exec(
        binary,
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        str(path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), limit_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise TikTokError("video_format_invalid", f"ffprobe timed out on {path.name}") from None
    if process.returncode != 0:
        detail = err.decode(errors="replace").strip()[:200]
        raise TikTokError("video_format_invalid", f"ffprobe cannot read {path.name}: {detail}")
    size = (await anyio.Path(path).stat()).st_size
    return parse_ffprobe(json.loads(out or b"{}"), size)


async def check_video_file(path: Path, *, max_duration: float | None = None) -> MediaInfo:
    info = await probe(path)
    validate_video(info, max_duration=max_duration)
    return info


def _container(fmt: dict[str, Any], codec: str | None) -> str:
    names = set(str(fmt.get("format_name", "")).split(","))
    if "mp4" in names or "mov" in names:
        tags = fmt.get("tags")
        brand = str(tags.get("major_brand", "") if isinstance(tags, dict) else "").strip()
        return "mov" if brand == "qt" else "mp4"
    if "webm" in names:
        # ffprobe reports Matroska and WebM alike; WebM allows only VP8/VP9 video.
        return "webm" if codec in WEBM_CODECS else "matroska"
    return str(fmt.get("format_name") or "unknown")


def _attached_picture(stream: dict[str, Any]) -> bool:
    disposition = stream.get("disposition")
    return isinstance(disposition, dict) and bool(disposition.get("attached_pic"))


def _fps(stream: dict[str, Any]) -> float | None:
    for key in ("avg_frame_rate", "r_frame_rate"):
        try:
            rate = Fraction(str(stream.get(key, "")))
        except (ValueError, ZeroDivisionError):
            continue
        if rate > 0:
            return float(rate)
    return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
