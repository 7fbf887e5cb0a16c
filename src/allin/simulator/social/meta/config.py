"""What the simulated Meta Graph API looks like: the app, its Facebook users, their Pages and
the Instagram professional accounts linked to them, lifetimes, limits and delays."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from allin.core.clock import Clock, clock
from allin.simulator.social.common import loopback_callback

PAGE_SCOPES = ("pages_show_list", "pages_read_engagement", "pages_manage_posts", "publish_video")
IG_SCOPES = ("instagram_basic", "instagram_content_publish")


@dataclass(slots=True)
class FacebookUser:
    id: str
    name: str
    pages: list[str] = field(default_factory=list)  # Pages on which the user has a role


@dataclass(slots=True)
class Page:
    id: str
    name: str
    category: str = "Digital creator"
    instagram_id: str | None = None  # the linked Instagram professional account


@dataclass(slots=True)
class InstagramAccount:
    id: str
    username: str
    name: str = ""
    followers_count: int = 0


def _users() -> list[FacebookUser]:
    return [FacebookUser("10158000000000001", "Alex Creator", ["104000000000001"])]


def _pages() -> list[Page]:
    return [Page("104000000000001", "AllIN Creator Page", instagram_id="17841400000000001")]


def _accounts() -> list[InstagramAccount]:
    return [InstagramAccount("17841400000000001", "allin.creator", "AllIN Creator", 1200)]


@dataclass(slots=True)
class MetaConfig:
    app_id: str = "1234567890123456"
    app_secret: str = "sim-meta-app-secret"  # noqa: S105 - a simulator default
    redirect_uris: list[str] = field(
        default_factory=lambda: [loopback_callback(p) for p in ("facebook", "instagram")]
    )
    users: list[FacebookUser] = field(default_factory=_users)
    pages: list[Page] = field(default_factory=_pages)
    instagram_accounts: list[InstagramAccount] = field(default_factory=_accounts)
    clock: Clock = clock
    default_version: str = "v25.0"
    oldest_version: str = "v21.0"
    deny_consent: bool = False
    code_ttl: float = 600.0
    short_token_ttl: int = 5_400  # short-lived user tokens live about one to two hours
    long_token_ttl: int = 5_183_944  # about 60 days
    data_access_ttl: int = 90 * 86_400
    # Facebook Pages
    max_message: int = 63_206
    duplicate_window: float = 3_600.0  # undocumented: how long an identical message is refused
    schedule_min: float = 600.0  # 10 minutes ahead
    schedule_max: float = 182 * 86_400.0  # older docs: 6 months; some tools say 30 days
    video_processing_secs: float = 2.0
    # Instagram
    caption_max: int = 2_200
    hashtag_cap: int = 30  # 5 since the December 2025 product change; configurable
    mention_cap: int = 20
    image_processing_secs: float = 0.0  # images are often ready at once
    ig_video_processing_secs: float = 3.0
    container_ttl: float = 86_400.0
    container_cap: int = 400  # containers per account per 24 h
    publish_quota: int = 50  # `quota_total`; pages disagree (100 / 50 / 25)
    max_image_bytes: int = 8 * 1024 * 1024
    republish: Literal["error", "same_id"] = "error"
    fetch_urls: bool = True  # fetch media URLs over HTTP when not registered in the state
    # Rate limiting (percentages in the usage headers are of these)
    app_calls_per_hour: int = 200
    buc_calls_per_day: int = 4_800
    throttle_status: int = 400
    page_throttle_code: Literal[32, 80001] = 80001
