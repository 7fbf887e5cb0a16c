"""The interface every platform implements, and the value types that cross it.

A provider knows its platform's OAuth (authorization URL, code exchange, refresh, revoke), who
the token belongs to, its content rules, how to publish, how to ask about a publish still being
processed, and how to look for a post whose outcome is unknown (read-back). It turns every
platform error into a `SocialProviderError` of one `ErrorKind`, which decides what the caller
does: reconnect, retry later, wait out a rate window, give up on the content, or reconcile.

Providers are stateless apart from their HTTP client: tokens come in as arguments and go out as
return values; storing them (encrypted) is the accounts service's job.
"""

from __future__ import annotations

import base64
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from allin.core.clock import clock
from allin.core.errors import AppError


class Platform(StrEnum):
    TIKTOK = "tiktok"
    X = "x"
    LINKEDIN = "linkedin"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """A platform's app credentials and hosts (hosts are settings, so a simulator can stand in)."""

    client_id: str | None
    client_secret: str | None
    redirect_uri: str
    api_base_url: str
    auth_base_url: str
    scopes: tuple[str, ...] = ()
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)


@dataclass(frozen=True, slots=True)
class AuthorizationStart:
    """Where to send the browser, and what the callback needs to finish (kept server-side)."""

    url: str
    state: str
    code_verifier: str | None = None  # PKCE (RFC 7636), S256 only


@dataclass(frozen=True, slots=True)
class TokenSet:
    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    scopes: frozenset[str] = frozenset()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """The token endpoint's other fields (never logged)."""


@dataclass(frozen=True, slots=True)
class Identity:
    """An account the token can act as. One login can yield several (Facebook Pages, and the
    Instagram business accounts linked to them), each with its own token where the platform
    issues one (a Page token)."""

    platform_user_id: str
    username: str | None
    display_name: str | None
    avatar_url: str | None = None
    token: TokenSet | None = None
    """The account's own token, when it differs from the login's."""
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AccountCredentials:
    """What a provider needs to act as one connected account."""

    platform_user_id: str
    access_token: str
    extra: Mapping[str, Any] = field(default_factory=dict)


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    GIF = "gif"


@dataclass(frozen=True, slots=True)
class MediaItem:
    """A file in the media library, with what probing found."""

    path: Path
    mime_type: str
    kind: MediaKind
    size_bytes: int
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None
    frame_rate: float | None = None
    public_url: str | None = None
    """Where the platform can fetch it (Instagram and TikTok pull media by URL)."""


@dataclass(frozen=True, slots=True)
class ContentRules:
    """What a platform accepts in one post. `measure` counts text the way the platform does
    (X weighs URLs, CJK and emoji)."""

    text_limit: int
    measure: Callable[[str], int] = len
    max_media: int = 0
    image_types: frozenset[str] = frozenset()
    video_types: frozenset[str] = frozenset()
    max_image_bytes: int | None = None
    max_video_bytes: int | None = None
    min_video_seconds: float | None = None
    max_video_seconds: float | None = None
    max_hashtags: int | None = None
    max_mentions: int | None = None
    min_aspect: float | None = None
    max_aspect: float | None = None
    max_frame_rate: float | None = None
    requires_media: bool = False
    mixes_images_and_video: bool = False


@dataclass(frozen=True, slots=True)
class PublishRequest:
    text: str
    media: Sequence[MediaItem] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    """Platform options (TikTok privacy and interaction toggles, LinkedIn visibility...)."""
    first_comment: str | None = None
    idempotency_key: str = ""
    """Stable per target; sent where the platform takes one, and used to find the post again."""


class PublishState(StrEnum):
    PUBLISHED = "published"
    PROCESSING = "processing"  # accepted; ask `publish_status` with the tracking id


@dataclass(frozen=True, slots=True)
class PublishResult:
    state: PublishState
    platform_post_id: str | None = None
    url: str | None = None
    tracking_id: str | None = None
    """What to poll while processing (TikTok publish_id, Instagram container id, X media id)."""


class ErrorKind(StrEnum):
    AUTH = "auth"  # the token is dead or lacks a scope: the user must reconnect
    TRANSIENT = "transient"  # try again later (5xx, timeouts before sending, network)
    RATE_LIMITED = "rate_limited"  # wait until `retry_after`
    REJECTED = "rejected"  # the platform refused the content: retrying will not help
    UNKNOWN_OUTCOME = "unknown_outcome"  # sent, no answer: the post may exist; reconcile
    CONFIG = "config"  # our app is not configured or not allowed


class LimitScope(StrEnum):
    """Who a rate limit holds back: one connected account (a user, member, Page or Instagram
    account, alone or per app), or our whole app on the platform (every account waits)."""

    ACCOUNT = "account"
    APP = "app"


def app_platforms(platform: Platform) -> tuple[Platform, ...]:
    """The platforms one app serves, which therefore share its app-level limits: a Meta app
    (Facebook Login) serves both Facebook Pages and Instagram."""
    if platform in (Platform.FACEBOOK, Platform.INSTAGRAM):
        return (Platform.FACEBOOK, Platform.INSTAGRAM)
    return (platform,)


class SocialProviderError(AppError):
    """A platform's failure, classified. `platform_code` and `platform_message` are the
    platform's own words (shown to the user, logged with the correlation ID).

    A RATE_LIMITED error says who is limited (`scope`) and until when (`reset_at`, with
    `retry_after` the same moment in seconds from now), as far as the platform tells."""

    code: ClassVar[str] = "SOCIAL_002"
    status_code: ClassVar[int] = 502
    default_message = "The platform refused the request"

    def __init__(
        self,
        message: str | None = None,
        *,
        kind: ErrorKind,
        platform: Platform,
        platform_code: str | None = None,
        platform_message: str | None = None,
        retry_after: float | None = None,
        http_status: int | None = None,
        reconnect: bool | None = None,
        scope: LimitScope | None = None,
        reset_at: datetime | None = None,
    ) -> None:
        self.kind = kind
        self.platform = platform
        self.platform_code = platform_code
        self.platform_message = platform_message
        if reset_at is not None and retry_after is None:
            retry_after = max(0.0, (reset_at - clock.now()).total_seconds())
        elif retry_after is not None and reset_at is None:
            reset_at = clock.now() + timedelta(seconds=retry_after)
        self.retry_after = retry_after
        self.reset_at = reset_at
        limited = kind is ErrorKind.RATE_LIMITED
        self.scope = (scope or LimitScope.ACCOUNT) if limited else None
        self.http_status = http_status
        self.reconnect = kind is ErrorKind.AUTH if reconnect is None else reconnect
        headers = {"Retry-After": str(max(1, round(retry_after)))} if retry_after else None
        details = {
            "platform": platform.value,
            "kind": kind.value,
            "platform_code": platform_code,
            "platform_message": platform_message,
            "reconnect": self.reconnect,
        }
        if self.scope is not None:
            details["scope"] = self.scope.value
            details["reset_at"] = reset_at.isoformat() if reset_at else None
        code = _CODES[kind]
        super().__init__(message, details=details, code=code, headers=headers)
        self.status_code = _STATUSES[kind]  # type: ignore[misc]


_CODES = {
    ErrorKind.AUTH: "SOCIAL_001",
    ErrorKind.TRANSIENT: "SOCIAL_002",
    ErrorKind.RATE_LIMITED: "SOCIAL_003",
    ErrorKind.REJECTED: "CONTENT_003",
    ErrorKind.UNKNOWN_OUTCOME: "SOCIAL_004",
    ErrorKind.CONFIG: "SOCIAL_005",
}
_STATUSES = {
    ErrorKind.AUTH: 401,
    ErrorKind.TRANSIENT: 502,
    ErrorKind.RATE_LIMITED: 429,
    ErrorKind.REJECTED: 422,
    ErrorKind.UNKNOWN_OUTCOME: 502,
    ErrorKind.CONFIG: 409,
}


class SocialProvider(ABC):
    """One platform. Implementations live in `providers/<platform>.py` and are registered by
    platform in the social domain's provider registry."""

    platform: ClassVar[Platform]
    uses_pkce: ClassVar[bool] = False
    can_refresh: ClassVar[bool] = True
    rotates_refresh_tokens: ClassVar[bool] = False
    pulls_media: ClassVar[bool] = False
    """The platform fetches media from `MediaItem.public_url`; it takes no upload."""
    rules: ClassVar[ContentRules]

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config

    def code_challenge(self, code_verifier: str) -> str:
        """The PKCE challenge for a verifier: RFC 7636 S256, BASE64URL(SHA256(verifier))
        without padding. A platform with its own variant overrides this."""
        digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    @abstractmethod
    def authorization_url(self, state: str, code_challenge: str | None = None) -> str:
        """The consent page URL (with PKCE S256 challenge when `uses_pkce`)."""

    @abstractmethod
    async def exchange_code(self, code: str, code_verifier: str | None = None) -> TokenSet:
        """Trades the callback's code for tokens (a code is single use at the platform)."""

    @abstractmethod
    async def refresh(self, token: TokenSet) -> TokenSet:
        """New tokens; when the platform rotates, the returned refresh token replaces the old
        one, which is dead from now on. Raises AUTH when the refresh token is."""

    @abstractmethod
    async def revoke(self, token: TokenSet) -> None:
        """Revokes at the platform where it can; a no-op where it cannot."""

    @abstractmethod
    async def identities(self, token: TokenSet) -> list[Identity]:
        """Who the token acts as (several for a Facebook login: its Pages)."""

    @abstractmethod
    async def publish(self, account: AccountCredentials, post: PublishRequest) -> PublishResult:
        """Uploads media (safe to retry) and then makes the one irreversible call. A timeout or
        5xx after that call was sent raises UNKNOWN_OUTCOME, never a blind retry."""

    @abstractmethod
    async def publish_status(self, account: AccountCredentials, tracking_id: str) -> PublishResult:
        """Where a PROCESSING publish stands now."""

    @abstractmethod
    async def find_published(
        self, account: AccountCredentials, post: PublishRequest, since: datetime
    ) -> PublishResult | None:
        """Read-back for reconciliation: the post this request made after `since`, if any."""

    @abstractmethod
    async def aclose(self) -> None:
        """Releases the provider's HTTP client."""
