"""Analytics from the Display API: lifetime totals now (TikTok keeps no history), per video and
summed, with engagement rate = (likes + comments + shares) / views x 100. A daily snapshot of
these numbers (`DailySnapshot`, a table) is what turns them into growth over time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from allin.core.clock import utcnow
from allin.tiktok.client import TikTokClient
from allin.tiktok.models import USER_STATS_FIELDS, UserInfo, Video, engagement_rate

ANALYTICS_VIDEO_FIELDS = (
    "id",
    "create_time",
    "title",
    "share_url",
    "duration",
    "view_count",
    "like_count",
    "comment_count",
    "share_count",
)


@dataclass(frozen=True, slots=True)
class VideoStats:
    id: str
    title: str | None
    create_time: int | None
    views: int
    likes: int
    comments: int
    shares: int

    @property
    def engagement_rate(self) -> float:
        return engagement_rate(self.views, self.likes + self.comments + self.shares)


@dataclass(frozen=True, slots=True)
class AnalyticsSnapshot:
    taken_at: datetime
    followers: int | None
    following: int | None
    total_likes: int | None  # the profile's lifetime likes (user.info.stats)
    video_count: int | None
    views: int
    likes: int
    comments: int
    shares: int
    videos: tuple[VideoStats, ...] = field(default_factory=tuple)

    @property
    def engagement_rate(self) -> float:
        return engagement_rate(self.views, self.likes + self.comments + self.shares)


@dataclass(frozen=True, slots=True)
class DailySnapshot:
    """One day's reading of an account (the last one taken that UTC day)."""

    day: date
    taken_at: datetime
    followers: int | None
    following: int | None
    total_likes: int | None
    video_count: int | None
    views: int
    likes: int
    comments: int
    shares: int
    engagement_rate: float

    @classmethod
    def of(cls, snapshot: AnalyticsSnapshot) -> DailySnapshot:
        return cls(
            day=snapshot.taken_at.date(),
            taken_at=snapshot.taken_at,
            followers=snapshot.followers,
            following=snapshot.following,
            total_likes=snapshot.total_likes,
            video_count=snapshot.video_count,
            views=snapshot.views,
            likes=snapshot.likes,
            comments=snapshot.comments,
            shares=snapshot.shares,
            engagement_rate=snapshot.engagement_rate,
        )


def video_stats(video: Video) -> VideoStats:
    return VideoStats(
        id=video.id,
        title=video.title,
        create_time=video.create_time,
        views=video.view_count or 0,
        likes=video.like_count or 0,
        comments=video.comment_count or 0,
        shares=video.share_count or 0,
    )


def summarize(user: UserInfo | None, videos: list[Video]) -> AnalyticsSnapshot:
    stats = tuple(video_stats(v) for v in videos)
    return AnalyticsSnapshot(
        taken_at=utcnow(),
        followers=user.follower_count if user else None,
        following=user.following_count if user else None,
        total_likes=user.likes_count if user else None,
        video_count=user.video_count if user else None,
        views=sum(s.views for s in stats),
        likes=sum(s.likes for s in stats),
        comments=sum(s.comments for s in stats),
        shares=sum(s.shares for s in stats),
        videos=stats,
    )


async def collect(
    client: TikTokClient, access_token: str, *, max_videos: int = 100, with_user_stats: bool = True
) -> AnalyticsSnapshot:
    """User stats (if the user.info.stats scope was granted) plus the newest public videos."""
    user = None
    if with_user_stats:
        user = await client.user_info(access_token, ["open_id", *USER_STATS_FIELDS])
    videos: list[Video] = []
    cursor: int | None = None
    while len(videos) < max_videos:
        page = await client.list_videos(access_token, cursor=cursor, fields=ANALYTICS_VIDEO_FIELDS)
        videos.extend(page.videos)
        if not page.has_more or not page.videos:
            break
        cursor = page.cursor
    return summarize(user, videos[:max_videos])
