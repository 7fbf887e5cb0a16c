"""Typed shapes of TikTok's responses and requests (v2 Login Kit, Display and Content Posting)."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Response(BaseModel):
    # TikTok adds fields over time; unknown ones must not break us.
    model_config = ConfigDict(extra="ignore", frozen=True)


def _split_scopes(value: object) -> object:
    if isinstance(value, str):
        return [part for part in value.replace(" ", ",").split(",") if part]
    return value


class TokenSet(_Response):
    """A user token pair. Lifetimes are whatever `expires_in` says, never assumed."""

    access_token: str
    expires_in: int
    refresh_token: str | None = None
    refresh_expires_in: int | None = None
    open_id: str | None = None
    scope: list[str] = Field(default_factory=list)
    token_type: str = "Bearer"  # noqa: S105 - a scheme name
    issued_at: datetime

    _scopes = field_validator("scope", mode="before")(_split_scopes)

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + timedelta(seconds=self.expires_in)

    @property
    def refresh_expires_at(self) -> datetime | None:
        if self.refresh_expires_in is None:
            return None
        return self.issued_at + timedelta(seconds=self.refresh_expires_in)


class ClientToken(_Response):
    """A client_credentials token (Research / Commercial Content APIs); no refresh token."""

    access_token: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - a scheme name
    issued_at: datetime

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + timedelta(seconds=self.expires_in)


class AuthorizationRequest(tuple[str, str]):
    """`(url, state)`: unpacks as a pair, as an authorization URL builder traditionally returns."""

    __slots__ = ()

    def __new__(cls, url: str, state: str) -> AuthorizationRequest:
        return super().__new__(cls, (url, state))

    @property
    def url(self) -> str:
        return self[0]

    @property
    def state(self) -> str:
        return self[1]


class CallbackResult(_Response):
    code: str
    state: str
    scopes: list[str] = Field(default_factory=list)

    _scopes = field_validator("scopes", mode="before")(_split_scopes)


USER_BASIC_FIELDS = ("open_id", "union_id", "avatar_url", "display_name")
USER_PROFILE_FIELDS = ("bio_description", "profile_deep_link", "is_verified", "username")
USER_STATS_FIELDS = ("follower_count", "following_count", "likes_count", "video_count")


class UserInfo(_Response):
    open_id: str | None = None
    union_id: str | None = None
    avatar_url: str | None = None
    avatar_url_100: str | None = None
    avatar_large_url: str | None = None
    display_name: str | None = None
    bio_description: str | None = None
    profile_deep_link: str | None = None
    profile_web_link: str | None = None
    is_verified: bool | None = None
    username: str | None = None
    follower_count: int | None = None
    following_count: int | None = None
    likes_count: int | None = None
    video_count: int | None = None


VIDEO_FIELDS = (
    "id",
    "create_time",
    "cover_image_url",
    "share_url",
    "video_description",
    "duration",
    "height",
    "width",
    "title",
    "embed_link",
    "like_count",
    "comment_count",
    "share_count",
    "view_count",
)


class Video(_Response):
    id: str
    create_time: int | None = None  # epoch seconds
    cover_image_url: str | None = None
    share_url: str | None = None
    video_description: str | None = None
    duration: int | None = None
    height: int | None = None
    width: int | None = None
    title: str | None = None
    embed_html: str | None = None
    embed_link: str | None = None
    like_count: int | None = None
    comment_count: int | None = None
    share_count: int | None = None
    view_count: int | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @property
    def engagement_rate(self) -> float:
        """(likes + comments + shares) / views x 100; 0 with no views."""
        return engagement_rate(
            self.view_count or 0,
            (self.like_count or 0) + (self.comment_count or 0) + (self.share_count or 0),
        )


def engagement_rate(views: int, interactions: int) -> float:
    return round(interactions / views * 100, 4) if views > 0 else 0.0


class VideoPage(_Response):
    videos: list[Video] = Field(default_factory=list)
    cursor: int | None = None  # epoch milliseconds
    has_more: bool = False


class PrivacyLevel(StrEnum):
    PUBLIC_TO_EVERYONE = "PUBLIC_TO_EVERYONE"
    MUTUAL_FOLLOW_FRIENDS = "MUTUAL_FOLLOW_FRIENDS"
    FOLLOWER_OF_CREATOR = "FOLLOWER_OF_CREATOR"
    SELF_ONLY = "SELF_ONLY"


class CreatorInfo(_Response):
    creator_avatar_url: str | None = None
    creator_username: str | None = None
    creator_nickname: str | None = None
    privacy_level_options: list[str] = Field(default_factory=list)
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int | None = None


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def payload(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True, mode="json")


class VideoPostInfo(_Request):
    """Direct Post options; comment/duet/stitch start unchecked as the UX rules require."""

    privacy_level: PrivacyLevel
    title: str | None = Field(default=None, max_length=2200)
    disable_duet: bool = False
    disable_stitch: bool = False
    disable_comment: bool = False
    video_cover_timestamp_ms: int | None = Field(default=None, ge=0)
    brand_content_toggle: bool = False
    brand_organic_toggle: bool = False
    is_aigc: bool | None = None


class PhotoPostInfo(_Request):
    title: str | None = Field(default=None, max_length=90)
    description: str | None = Field(default=None, max_length=4000)
    privacy_level: PrivacyLevel | None = None  # required for DIRECT_POST
    disable_comment: bool | None = None
    auto_add_music: bool | None = None
    brand_content_toggle: bool | None = None
    brand_organic_toggle: bool | None = None


class PhotoPostMode(StrEnum):
    DIRECT_POST = "DIRECT_POST"
    MEDIA_UPLOAD = "MEDIA_UPLOAD"


class PublishInit(_Response):
    publish_id: str
    upload_url: str | None = None


class PublishStatusValue(StrEnum):
    PROCESSING_UPLOAD = "PROCESSING_UPLOAD"
    PROCESSING_DOWNLOAD = "PROCESSING_DOWNLOAD"
    SEND_TO_USER_INBOX = "SEND_TO_USER_INBOX"
    PUBLISH_COMPLETE = "PUBLISH_COMPLETE"
    FAILED = "FAILED"


TERMINAL_STATUSES = frozenset(
    {
        PublishStatusValue.SEND_TO_USER_INBOX,
        PublishStatusValue.PUBLISH_COMPLETE,
        PublishStatusValue.FAILED,
    }
)


class PublishStatus(_Response):
    status: str
    fail_reason: str | None = None
    # TikTok's spelling. Numbers (int64) per the docs; strings or a bare value also seen.
    publicaly_available_post_id: list[str] = Field(default_factory=list)
    uploaded_bytes: int | None = None
    downloaded_bytes: int | None = None

    @field_validator("publicaly_available_post_id", mode="before")
    @classmethod
    def _ids_as_text(cls, value: object) -> object:
        if value is None:
            return []
        if isinstance(value, str | int):
            value = [value]
        if isinstance(value, list):
            return [str(item) for item in value]
        return value

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def post_ids(self) -> list[str]:
        return self.publicaly_available_post_id
