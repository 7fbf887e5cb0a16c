"""What the TikTok routes answer (inside the standard envelope). Tokens never appear here."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from allin.core.breaker import CircuitBreaker
from allin.tiktok.analytics import AnalyticsSnapshot, DailySnapshot
from allin.tiktok.models import PublishStatus
from allin.tiktok.publish import PublishRecord


class ConnectOut(BaseModel):
    authorization_url: str
    expires_in: int  # seconds the one-time state stays valid


class RedirectUriOut(BaseModel):
    """The callback answered without OAuth parameters: what to register at TikTok."""

    redirect_uri: str
    configured: bool


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    open_id: str
    display_name: str | None
    avatar_url: str | None
    scopes: list[str]
    status: str
    connected_at: datetime
    access_expires_at: datetime | None
    refresh_expires_at: datetime | None


class DisconnectedOut(BaseModel):
    id: uuid.UUID
    revoked: bool  # whether TikTok confirmed the revocation (best effort)


class VideoStatsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str | None
    create_time: int | None
    views: int
    likes: int
    comments: int
    shares: int
    engagement_rate: float


class AccountTotalsOut(BaseModel):
    """An account's totals at one moment: now, or one reading of a day."""

    model_config = ConfigDict(from_attributes=True)

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


class DailyOut(AccountTotalsOut):
    day: date


class AnalyticsOut(AccountTotalsOut):
    """Totals now, per video, and one reading per day for growth charts (oldest first)."""

    videos: list[VideoStatsOut]
    history: list[DailyOut]

    @classmethod
    def of(cls, snapshot: AnalyticsSnapshot, history: list[DailySnapshot]) -> AnalyticsOut:
        totals = AccountTotalsOut.model_validate(snapshot).model_dump()
        return cls(
            **totals,
            videos=[VideoStatsOut.model_validate(v) for v in snapshot.videos],
            history=[DailyOut.model_validate(d) for d in history],
        )


class PublishOut(BaseModel):
    id: str
    account_id: str
    mode: str
    source: str
    state: str
    privacy_level: str | None
    publish_id: str | None
    video_size: int | None
    uploaded_bytes: int
    tiktok_status: str | None
    fail_reason: str | None
    post_ids: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: PublishRecord) -> PublishOut:
        return cls(
            id=record.id,
            account_id=record.account_id,
            mode=record.mode,
            source=record.source,
            state=record.state.value,
            privacy_level=record.privacy_level,
            publish_id=record.publish_id,
            video_size=record.video_size,
            uploaded_bytes=record.uploaded_bytes,
            tiktok_status=record.tiktok_status,
            fail_reason=record.fail_reason,
            post_ids=list(record.post_ids),
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


class TikTokStatusOut(BaseModel):
    status: str
    fail_reason: str | None
    post_ids: list[str]
    uploaded_bytes: int | None
    downloaded_bytes: int | None

    @classmethod
    def of(cls, status: PublishStatus) -> TikTokStatusOut:
        return cls(
            status=status.status,
            fail_reason=status.fail_reason,
            post_ids=status.post_ids,
            uploaded_bytes=status.uploaded_bytes,
            downloaded_bytes=status.downloaded_bytes,
        )


class PublishStatusOut(BaseModel):
    publish: PublishOut
    tiktok: TikTokStatusOut | None  # TikTok's live answer; None once the journal is final


class WebhookAckOut(BaseModel):
    received: bool
    duplicate: bool
    event: str


class BreakerOut(BaseModel):
    name: str
    state: str
    failures: int
    successes: int
    total_calls: int
    rejected_calls: int
    times_opened: int
    last_failure_time: datetime | None
    last_state_change: datetime
    failure_threshold: int
    reset_timeout: float
    monitoring_period: float

    @classmethod
    def of(cls, breaker: CircuitBreaker) -> BreakerOut:
        stats = breaker.stats()
        return cls(
            name=breaker.name,
            state=stats.state.value,
            failures=stats.failures,
            successes=stats.successes,
            total_calls=stats.total_calls,
            rejected_calls=stats.rejected_calls,
            times_opened=stats.times_opened,
            last_failure_time=stats.last_failure_time,
            last_state_change=stats.last_state_change,
            failure_threshold=breaker.config.failure_threshold,
            reset_timeout=breaker.config.reset_timeout,
            monitoring_period=breaker.config.monitoring_period,
        )


class BreakersOut(BaseModel):
    """This worker's breakers: API calls and upload PUTs are judged separately."""

    api: BreakerOut
    upload: BreakerOut
