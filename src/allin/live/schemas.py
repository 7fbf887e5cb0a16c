"""Request and response models of the LIVE API."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from allin.core.clock import utcnow
from allin.core.schemas import StrictModel
from allin.live.models import LiveSession, Streamer, WatchlistEntry

# TikTok handles: 2-24 letters, digits, underscores and dots.
USERNAME_RE = re.compile(r"[a-z0-9_.]{2,24}")
_PROFILE_URL = re.compile(r"^(?:https?://)?(?:www\.|m\.)?tiktok\.com/@([^/?#]+)", re.IGNORECASE)
_HANDLE = r"@?[A-Za-z0-9_.]{2,24}"
# Every form `normalise_username` accepts, as the schema states it (OpenAPI shows it): a
# handle with an optional "@", or a tiktok.com profile or LIVE URL; spaces or tabs around;
# no control characters anywhere. Spelled without flags so any regex engine reads it alike.
USERNAME_PATTERN = (
    rf"^[ \t]*(?:{_HANDLE}|(?:[Hh][Tt][Tt][Pp][Ss]?://)?(?:[Ww][Ww][Ww]\.|[Mm]\.)?"
    rf"[Tt][Ii][Kk][Tt][Oo][Kk]\.[Cc][Oo][Mm]/@{_HANDLE}(?:[/?#][^\x00-\x1f\x7f]*)?)[ \t]*$"
)
_USERNAME_INPUT = re.compile(USERNAME_PATTERN)
# A username in a URL path: the handle forms only (a URL cannot be one path segment).
HANDLE_PATTERN = rf"^[ \t]*{_HANDLE}[ \t]*$"
USERNAME_RULE = "a TikTok username has 2-24 letters, digits, '_' or '.'"
USERNAME_MAX_INPUT = 200
# Search terms and names: any text but control characters (a NUL matched every event).
PRINTABLE_PATTERN = r"^[^\x00-\x1f\x7f]*$"


def normalise_username(value: str) -> str:
    """'@Name', 'name' and 'https://www.tiktok.com/@name/live' all mean 'name'."""
    if _USERNAME_INPUT.fullmatch(value) is None:
        raise ValueError(USERNAME_RULE)
    value = value.strip(" \t")
    match = _PROFILE_URL.match(value)
    if match:
        value = match.group(1)
    value = value.removeprefix("@").lower()
    if not USERNAME_RE.fullmatch(value):
        raise ValueError(USERNAME_RULE)
    return value


class UsernameBody(StrictModel):
    username: str = Field(
        examples=["demo_streamer"], max_length=USERNAME_MAX_INPUT, pattern=USERNAME_PATTERN
    )

    @field_validator("username")
    @classmethod
    def _valid(cls, value: str) -> str:
        return normalise_username(value)


class SessionCreate(UsernameBody):
    """Start capturing this streamer's LIVE."""


class WatchlistCreate(UsernameBody):
    """Capture this streamer automatically whenever they go live."""


class SessionOut(BaseModel):
    id: uuid.UUID
    streamer_username: str
    room_id: str | None
    status: Literal["active", "ended", "interrupted"]
    end_reason: str | None
    started_at: datetime
    ended_at: datetime | None
    duration_seconds: float
    streamer: dict[str, Any]
    counters: dict[str, int]
    total_events: int
    total_likes: int
    total_diamonds: int
    peak_viewers: int
    current_viewers: int
    resume_count: int

    @classmethod
    def of(cls, session: LiveSession) -> SessionOut:
        return cls(
            id=session.id,
            streamer_username=session.streamer_username,
            room_id=session.room_id,
            status=session.status,
            end_reason=session.end_reason,
            started_at=session.started_at,
            ended_at=session.ended_at,
            duration_seconds=session_duration(session),
            streamer=session.streamer_info or {},
            counters=session.counters or {},
            total_events=session.total_events or 0,
            total_likes=session.total_likes or 0,
            total_diamonds=session.total_diamonds or 0,
            peak_viewers=session.peak_viewers or 0,
            current_viewers=session.current_viewers or 0,
            resume_count=session.resume_count or 0,
        )


def session_duration(session: LiveSession) -> float:
    end = session.ended_at or (session.heartbeat_at if session.status != "active" else None)
    end = end or utcnow()
    return round(max(0.0, (end - session.started_at).total_seconds()), 3)


class EventOut(BaseModel):
    """A stored event. `id` is also its SSE id; 64-bit TikTok ids are strings."""

    id: int
    session_id: uuid.UUID
    type: str
    timestamp: datetime
    msg_id: str | None
    user_id: str | None
    unique_id: str | None
    nickname: str | None
    message: str | None
    gift_id: str | None
    gift_name: str | None
    repeat_count: int | None
    gift_count: int
    diamonds: int
    like_count: int
    viewer_count: int | None
    data: dict[str, Any]


class MinutePoint(BaseModel):
    minute: datetime
    value: int


class Gifter(BaseModel):
    user_id: str
    unique_id: str | None
    nickname: str | None
    diamonds: int
    gifts: int
    estimated_usd: float


class Chatter(BaseModel):
    user_id: str
    unique_id: str | None
    nickname: str | None
    messages: int


class GiftTotal(BaseModel):
    gift_id: str
    gift_name: str | None
    gifts: int
    diamonds: int


class AnalyticsOut(BaseModel):
    session_id: uuid.UUID
    status: str
    duration_seconds: float
    total_events: int
    counts: dict[str, int]
    unique_users: int
    peak_viewers: int
    current_viewers: int
    viewers_timeline: list[MinutePoint]
    events_per_minute: list[MinutePoint]
    average_events_per_minute: float
    likes: int
    diamonds: int
    estimated_usd: float
    top_gifters: list[Gifter]
    top_chatters: list[Chatter]
    top_gifts: list[GiftTotal]


class StreamerOut(BaseModel):
    username: str
    user_id: str | None
    display_name: str | None
    follower_count: int | None
    bio: str | None
    avatar_url: str | None
    last_live_at: datetime | None
    total_sessions: int = Field(description="Your sessions of this streamer")
    capturing: bool = Field(description="One of your sessions of this streamer is active")

    @classmethod
    def of(cls, streamer: Streamer, *, sessions: int, capturing: bool) -> StreamerOut:
        return cls(
            username=streamer.username,
            user_id=streamer.user_id,
            display_name=streamer.display_name,
            follower_count=streamer.follower_count,
            bio=streamer.bio,
            avatar_url=streamer.avatar_url,
            last_live_at=streamer.last_live_at,
            total_sessions=sessions,
            capturing=capturing,
        )


class StreamerDetailOut(StreamerOut):
    recent_sessions: list[SessionOut]


class WatchlistOut(BaseModel):
    id: uuid.UUID
    username: str
    enabled: bool
    is_live: bool
    last_checked_at: datetime | None
    last_session_id: uuid.UUID | None
    created_at: datetime

    @classmethod
    def of(cls, entry: WatchlistEntry) -> WatchlistOut:
        return cls(
            id=entry.id,
            username=entry.username,
            enabled=entry.enabled,
            is_live=entry.is_live,
            last_checked_at=entry.last_checked_at,
            last_session_id=entry.last_session_id,
            created_at=entry.created_at,
        )
