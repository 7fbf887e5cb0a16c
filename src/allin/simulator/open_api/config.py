"""What the simulated TikTok looks like: the app, its audit status, lifetimes, limits, delays."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ALL_SCOPES = frozenset(
    {
        "user.info.basic",
        "user.info.profile",
        "user.info.stats",
        "video.list",
        "video.publish",
        "video.upload",
        "research.data.basic",
    }
)


@dataclass(frozen=True, slots=True)
class TokenProfile:
    """Token lifetimes and refresh behaviour of one version of TikTok's docs."""

    access_ttl: int
    refresh_ttl: int
    always_rotate: bool  # 2026: every refresh issues a new refresh token, the old one dies


CLASSIC = TokenProfile(access_ttl=86_400, refresh_ttl=31_536_000, always_rotate=False)
PROFILE_2026 = TokenProfile(access_ttl=7_200, refresh_ttl=15_552_000, always_rotate=True)


@dataclass(slots=True)
class SimulatorConfig:
    client_key: str = "sim-client-key"
    client_secret: str = "sim-client-secret"  # noqa: S105 - a simulator default
    redirect_uris: list[str] = field(
        default_factory=lambda: ["http://127.0.0.1:*/api/integrations/tiktok/callback"]
    )
    approved_scopes: frozenset[str] = ALL_SCOPES
    token_profile: TokenProfile = CLASSIC
    client_token_ttl: int = 7_200
    code_ttl: float = 300.0
    auto_consent: bool = True
    oauth_error_status: Literal[200, 400] = 400  # TikTok's is undocumented; clients read bodies
    missing_field_scope_error: Literal["scope_not_authorized", "scope_permission_missed"] = (
        "scope_not_authorized"
    )
    audited: bool = True
    unaudited_user_cap: int = 5
    active_user_cap: int | None = None  # per client per 24 h (from the audit form)
    daily_post_cap: int = 15  # per creator per 24 h
    pending_share_cap: int = 5
    # requests per 60 s sliding window: per app for Display, per user token for Content Posting
    rate_limits: dict[str, int] = field(
        default_factory=lambda: {
            "user_info": 600,
            "video_list": 600,
            "video_query": 600,
            "creator_info": 20,
            "video_init": 6,
            "inbox_init": 6,
            "content_init": 6,
            "status_fetch": 30,
        }
    )
    send_retry_after: bool = True
    upload_url_ttl: float = 3_600.0
    upload_base_url: str | None = None  # default: the URL the init request came in on
    processing_delay: float = 0.2
    moderation_delay: float = 0.2
    post_id_mode: Literal["numbers", "strings"] = "numbers"
    chunk_min: int = 5 * 1024 * 1024  # strict by default: MiB for the minimum
    chunk_max: int = 64_000_000  # and decimal MB for the maximums
    final_chunk_max: int = 128_000_000
    max_video_bytes: int = 4 * 1024**3
    pull_require_https: bool = True
    verified_domains: list[str] = field(default_factory=list)
    verified_url_prefixes: list[str] = field(default_factory=list)
    pull_timeout: float = 3_600.0
    max_photo_bytes: int = 20 * 1024 * 1024
    webhook_url: str | None = None
    webhook_duplicates: int = 1  # deliveries per event (TikTok is at-least-once)
    webhook_retry_delays: tuple[float, ...] = (0.05, 0.1, 0.2, 0.4)
    tick_interval: float = 0.05
    upload_store_dir: Path | None = None
