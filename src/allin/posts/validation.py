"""Checks one post's text and media against one platform's `ContentRules`.

Every problem has a stable code and names the exact limit, so the composer can show it as
the user types and the queue can refuse the same content just before publishing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from allin.social.providers.base import ContentRules, MediaItem, MediaKind

# Hashtags and mentions as Instagram counts them: a # or @ that starts a word.
_HASHTAG = re.compile(r"(?<![\w&])#\w+")
_MENTION = re.compile(r"(?<![\w@])@[\w.]+")


class Code:
    TEXT_TOO_LONG = "CONTENT_001"
    TOO_MANY_HASHTAGS = "CONTENT_002"
    # CONTENT_003 is the platform's own rejection (SocialProviderError).
    TOO_MANY_MENTIONS = "CONTENT_004"
    MEDIA_REQUIRED = "CONTENT_005"
    TOO_MANY_MEDIA = "CONTENT_006"
    MEDIA_TYPE = "CONTENT_007"
    MEDIA_TOO_LARGE = "CONTENT_008"
    VIDEO_DURATION = "CONTENT_009"
    ASPECT_RATIO = "CONTENT_010"
    FRAME_RATE = "CONTENT_011"
    MIXED_MEDIA = "CONTENT_012"
    EMPTY = "CONTENT_013"


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str
    media_index: int | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    length: int
    limit: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def validate(text: str, media: Sequence[MediaItem], rules: ContentRules) -> Verdict:
    length = rules.measure(text)
    problems = [*_text_problems(text, length, rules), *_media_problems(media, rules)]
    if not text.strip() and not media:
        problems.append(Problem(Code.EMPTY, "A post needs text or media"))
    return Verdict(length=length, limit=rules.text_limit, problems=tuple(problems))


def _text_problems(text: str, length: int, rules: ContentRules) -> list[Problem]:
    problems = []
    if length > rules.text_limit:
        problems.append(
            Problem(
                Code.TEXT_TOO_LONG,
                f"Text is {length} characters as the platform counts them; "
                f"the limit is {rules.text_limit}",
            )
        )
    if rules.max_hashtags is not None:
        hashtags = len(_HASHTAG.findall(text))
        if hashtags > rules.max_hashtags:
            problems.append(
                Problem(
                    Code.TOO_MANY_HASHTAGS,
                    f"{hashtags} hashtags; the limit is {rules.max_hashtags}",
                )
            )
    if rules.max_mentions is not None:
        mentions = len(_MENTION.findall(text))
        if mentions > rules.max_mentions:
            problems.append(
                Problem(
                    Code.TOO_MANY_MENTIONS,
                    f"{mentions} mentions; the limit is {rules.max_mentions}",
                )
            )
    return problems


def _media_problems(media: Sequence[MediaItem], rules: ContentRules) -> list[Problem]:
    problems: list[Problem] = []
    if rules.requires_media and not media:
        problems.append(Problem(Code.MEDIA_REQUIRED, "This platform needs at least one media"))
    if len(media) > rules.max_media:
        problems.append(
            Problem(
                Code.TOO_MANY_MEDIA,
                f"{len(media)} media attached; the limit is {rules.max_media}",
            )
        )
    kinds = {item.kind is MediaKind.VIDEO for item in media}
    if len(kinds) > 1 and not rules.mixes_images_and_video:
        problems.append(
            Problem(Code.MIXED_MEDIA, "This platform does not mix images and video in one post")
        )
    for index, item in enumerate(media):
        problems.extend(_item_problems(index, item, rules))
    return problems


def _item_problems(index: int, item: MediaItem, rules: ContentRules) -> list[Problem]:
    video = item.kind is MediaKind.VIDEO
    accepted = rules.video_types if video else rules.image_types
    if item.mime_type not in accepted:
        allowed = ", ".join(sorted(accepted)) or "none"
        return [
            Problem(
                Code.MEDIA_TYPE, f"{item.mime_type} is not accepted (accepted: {allowed})", index
            )
        ]
    problems = []
    max_bytes = rules.max_video_bytes if video else rules.max_image_bytes
    if max_bytes is not None and item.size_bytes > max_bytes:
        problems.append(
            Problem(
                Code.MEDIA_TOO_LARGE,
                f"File is {item.size_bytes} bytes; the limit is {max_bytes} bytes",
                index,
            )
        )
    if video and item.duration_seconds is not None:
        problems.extend(_duration_problems(index, item.duration_seconds, rules))
    if item.width and item.height and (rules.min_aspect or rules.max_aspect):
        aspect = item.width / item.height
        low, high = rules.min_aspect or 0.0, rules.max_aspect or float("inf")
        if not low <= aspect <= high:
            problems.append(
                Problem(
                    Code.ASPECT_RATIO,
                    f"Aspect ratio {aspect:.3f} is outside {low:g} to {high:g}",
                    index,
                )
            )
    if (
        video
        and item.frame_rate
        and rules.max_frame_rate
        and item.frame_rate > rules.max_frame_rate
    ):
        problems.append(
            Problem(
                Code.FRAME_RATE,
                f"Frame rate {item.frame_rate:g} fps; the limit is {rules.max_frame_rate:g} fps",
                index,
            )
        )
    return problems


def _duration_problems(index: int, seconds: float, rules: ContentRules) -> list[Problem]:
    if rules.min_video_seconds is not None and seconds < rules.min_video_seconds:
        return [
            Problem(
                Code.VIDEO_DURATION,
                f"Video is {seconds:g} s; the minimum is {rules.min_video_seconds:g} s",
                index,
            )
        ]
    if rules.max_video_seconds is not None and seconds > rules.max_video_seconds:
        return [
            Problem(
                Code.VIDEO_DURATION,
                f"Video is {seconds:g} s; the maximum is {rules.max_video_seconds:g} s",
                index,
            )
        ]
    return []
