"""Each platform's content rules, for validation at compose time and before publishing.

A provider's own `rules` (on its class) win when a provider is registered for the platform;
this table is the fallback and the figures the providers start from. Sources: X's
twitter-text v3 (280 weighted) and media upload docs; Instagram's Content Publishing API
(2,200 characters, 30 hashtags, 20 mentions, 10 carousel items, aspect 4:5 to 1.91:1 for
images, 3 s-15 min reels); LinkedIn Posts API commentary (3,000); Facebook Page posts (63,206);
TikTok Content Posting API (2,200-character title, one video, 3 s-10 min, 4 GB).
"""

from __future__ import annotations

from dataclasses import replace

from allin.core.config import Settings
from allin.social.providers.base import ContentRules, Platform
from allin.social.text.x_weight import MAX_WEIGHTED_LENGTH, weighted_length

_IMAGES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
_VIDEOS = frozenset({"video/mp4", "video/quicktime"})
MB = 1024 * 1024

DEFAULT_RULES: dict[Platform, ContentRules] = {
    Platform.X: ContentRules(
        text_limit=MAX_WEIGHTED_LENGTH,
        measure=weighted_length,
        max_media=4,
        image_types=_IMAGES,
        video_types=frozenset({"video/mp4"}),
        max_image_bytes=5 * MB,
        max_video_bytes=512 * MB,
        min_video_seconds=0.5,
        max_video_seconds=140,
        max_frame_rate=60,
    ),
    Platform.INSTAGRAM: ContentRules(
        text_limit=2200,
        max_media=10,
        image_types=frozenset({"image/jpeg"}),
        video_types=_VIDEOS,
        max_image_bytes=8 * MB,
        max_video_bytes=300 * MB,
        min_video_seconds=3,
        max_video_seconds=900,
        max_hashtags=30,
        max_mentions=20,
        min_aspect=0.8,
        max_aspect=1.91,
        max_frame_rate=60,
        requires_media=True,
        mixes_images_and_video=True,
    ),
    Platform.LINKEDIN: ContentRules(
        text_limit=3000,
        max_media=9,
        image_types=frozenset({"image/jpeg", "image/png", "image/gif"}),
        video_types=frozenset({"video/mp4"}),
        max_image_bytes=36 * MB,
        max_video_bytes=5 * 1024 * MB,
        min_video_seconds=3,
        max_video_seconds=1800,
    ),
    Platform.FACEBOOK: ContentRules(
        text_limit=63206,
        max_media=10,
        image_types=_IMAGES,
        video_types=_VIDEOS,
        max_image_bytes=10 * MB,
        max_video_bytes=10 * 1024 * MB,
        max_video_seconds=240 * 60,
    ),
    Platform.TIKTOK: ContentRules(
        text_limit=2200,
        max_media=1,
        video_types=_VIDEOS | frozenset({"video/webm"}),
        max_video_bytes=4 * 1024 * MB,
        min_video_seconds=3,
        max_video_seconds=600,
        min_aspect=0.5,
        max_aspect=1.0,
        max_frame_rate=60,
        requires_media=True,
    ),
}


def rules_for(
    platform: Platform, settings: Settings | None = None, provided: ContentRules | None = None
) -> ContentRules:
    """The platform's rules (the registered provider's when given, else this table's), with
    the operator's overrides on top (Instagram changed its caps)."""
    rules = provided or DEFAULT_RULES[platform]
    if platform is Platform.INSTAGRAM and settings is not None:
        rules = replace(
            rules,
            max_hashtags=settings.posts_instagram_max_hashtags,
            max_mentions=settings.posts_instagram_max_mentions,
        )
    return rules
