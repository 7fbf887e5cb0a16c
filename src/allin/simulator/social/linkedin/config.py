"""What the simulated LinkedIn looks like: the app (and whether it may refresh tokens), its
members and company pages, active API versions, lifetimes and delays."""

from __future__ import annotations

from dataclasses import dataclass, field

from allin.core.clock import Clock, clock
from allin.simulator.social.common import loopback_callback

ALL_SCOPES = frozenset(
    {
        "openid",
        "profile",
        "email",
        "w_member_social",
        "r_member_social",
        "w_organization_social",
        "r_organization_social",
        "r_basicprofile",
    }
)


@dataclass(slots=True)
class Member:
    sub: str  # the OpenID subject; the post author is urn:li:person:{sub}
    given_name: str
    family_name: str
    email: str = ""
    locale: str = "en_US"

    @property
    def urn(self) -> str:
        return f"urn:li:person:{self.sub}"


@dataclass(slots=True)
class Organization:
    id: str
    name: str
    admins: list[str] = field(default_factory=list)  # member subs with a posting role

    @property
    def urn(self) -> str:
        return f"urn:li:organization:{self.id}"


def _members() -> list[Member]:
    return [Member("aB3dE5fG7h", "Alex", "Creator", "alex@example.com")]


@dataclass(slots=True)
class LinkedInConfig:
    client_id: str = "sim-linkedin-client-id"
    client_secret: str = "sim-linkedin-client-secret-for-tests"  # noqa: S105 - a simulator default
    redirect_uris: list[str] = field(default_factory=lambda: [loopback_callback("linkedin")])
    members: list[Member] = field(default_factory=_members)
    organizations: list[Organization] = field(default_factory=list)
    # Approved for programmatic refresh tokens (Marketing / Community Management partners).
    partner: bool = False
    clock: Clock = clock
    code_ttl: float = 1_800.0  # undocumented
    access_ttl: int = 5_184_000  # 60 days
    refresh_ttl: int = 31_536_000  # 365 days, counting down from the first grant
    deny_consent: bool = False
    active_versions: tuple[str, str] = ("202601", "202612")  # oldest, newest YYYYMM
    max_commentary: int = 3_000
    duplicate_window: float = 7 * 86_400.0  # undocumented
    ghost_window: float = 48 * 3_600.0  # deleted posts still count as duplicates this long
    daily_member_limit: int = 150  # per member per app per UTC day, on POST /rest/posts
    daily_app_limit: int = 100_000
    media_processing_secs: float = 1.0
    video_part_size: int = 4 * 1024 * 1024
