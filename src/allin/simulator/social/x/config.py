"""What the simulated X looks like: the app, its accounts, lifetimes, limits and delays."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from allin.core.clock import Clock, clock
from allin.simulator.social.common import loopback_callback

# The OAuth 2.0 scopes of X API v2 (OpenAPI securitySchemes).
ALL_SCOPES = frozenset(
    {
        "tweet.read",
        "tweet.write",
        "tweet.moderate.write",
        "users.email",
        "users.read",
        "follows.read",
        "follows.write",
        "offline.access",
        "space.read",
        "mute.read",
        "mute.write",
        "like.read",
        "like.write",
        "list.read",
        "list.write",
        "block.read",
        "block.write",
        "bookmark.read",
        "bookmark.write",
        "media.write",
        "dm.read",
        "dm.write",
    }
)


@dataclass(slots=True)
class XUser:
    id: str
    username: str
    name: str
    premium: bool = False  # long posts up to `premium_max_length`
    verified: bool = False
    created_at: str = "2020-01-01T00:00:00.000Z"


def _default_users() -> list[XUser]:
    return [XUser("2244994945", "allin_creator", "AllIN Creator")]


@dataclass(slots=True)
class XConfig:
    client_id: str = "sim-x-client-id"
    client_secret: str | None = "sim-x-client-secret"  # noqa: S105 - None = a public client
    app_bearer_token: str = "sim-x-app-bearer"  # noqa: S105 - OAuth 2.0 App-Only
    redirect_uris: list[str] = field(default_factory=lambda: [loopback_callback("x")])
    users: list[XUser] = field(default_factory=_default_users)
    clock: Clock = clock
    code_ttl: float = 30.0
    access_ttl: int = 7_200
    refresh_ttl: float = 15_552_000.0  # undocumented; third parties report about six months
    revoke_family_on_reuse: bool = True
    deny_consent: bool = False
    max_length: int = 280
    premium_max_length: int = 25_000
    self_serve: bool = True  # summoned-replies rule, one cashtag, no quote posts
    duplicate_window: float = 86_400.0
    overlength_status: Literal[400, 403] = 400
    edit_history_key: str = "edit_history_post_ids"  # older bodies: edit_history_tweet_ids
    problem_host: str = "https://api.twitter.com"  # live bodies; the spec says api.x.com
    # per user per 15 minutes (docs.x.com rate-limits, 2026-08)
    user_limits: dict[str, int] = field(
        default_factory=lambda: {
            "tweets.create": 100,
            "tweets.delete": 50,
            "tweets.get": 900,
            "users.me": 75,
            "users.tweets": 900,
            "media.upload": 500,
            "media.chunked": 1_875,
            "media.status": 1_000,
        }
    )
    # per app: (limit, window seconds)
    app_limits: dict[str, tuple[int, float]] = field(
        default_factory=lambda: {
            "tweets.create": (10_000, 86_400.0),
            "users.tweets": (10_000, 900.0),
            "media.upload": (50_000, 86_400.0),
            "media.chunked": (180_000, 86_400.0),
        }
    )
    user_daily_post_limit: int = 2_400  # account rule: 2,400 posts a day (X Help Center)
    media_expires_after: int = 86_400
    media_pending_secs: float = 1.0  # video/GIF: pending, then in_progress, then succeeded
    media_processing_secs: float = 2.0
    check_after_secs: int = 1
