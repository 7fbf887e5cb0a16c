"""The simulated LinkedIn's memory: members, grants and tokens, posts, media and counters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from allin.simulator.social.common import CodeStore, Faults, FixedWindows, mint, snowflake, unix
from allin.simulator.social.linkedin.config import LinkedInConfig, Member, Organization


@dataclass(slots=True)
class Grant:
    member: str
    scopes: tuple[str, ...]
    authorized_at: float
    refresh_expires_at: float
    revoked: bool = False


@dataclass(slots=True)
class Token:
    value: str
    grant: Grant
    created_at: float
    expires_at: float


@dataclass(slots=True)
class Post:
    urn: str
    author: str
    commentary: str  # as stored: cut at the first unescaped reserved character
    sent_commentary: str
    body: dict[str, Any]
    created_at: float
    deleted_at: float | None = None


@dataclass(slots=True)
class Asset:
    urn: str
    owner: str
    kind: str  # image | video
    created_at: float
    size: int = 0
    parts: dict[int, int] = field(default_factory=dict)  # part -> bytes received
    etags: dict[int, str] = field(default_factory=dict)
    uploaded_at: float | None = None
    fails: bool = False


class LinkedInState:
    """Everything the simulated LinkedIn knows. Tests reach it as `app.state.sim`."""

    def __init__(self, config: LinkedInConfig) -> None:
        self.config = config
        self.clock = config.clock
        self.members: dict[str, Member] = {m.sub: m for m in config.members}
        self.organizations: dict[str, Organization] = {o.urn: o for o in config.organizations}
        self.codes = CodeStore(self.clock)
        self.access: dict[str, Token] = {}
        self.refresh: dict[str, Token] = {}
        self.posts: dict[str, Post] = {}
        self.assets: dict[str, Asset] = {}
        self.windows = FixedWindows(self.clock)
        self.faults = Faults()
        self.deny_consent = config.deny_consent
        self.fail_next_media = 0

    def now(self) -> float:
        return unix(self.clock)

    def find_member(self, handle: str | None) -> Member:
        return self.members.get(handle or "") or next(iter(self.members.values()))

    def issue_access(self, grant: Grant) -> Token:
        now = self.now()
        token = Token(mint("AQ", 96), grant, now, now + self.config.access_ttl)
        self.access[token.value] = token
        return token

    def new_post(self, author: str, sent: str, stored: str, body: dict[str, Any]) -> Post:
        post = Post(f"urn:li:share:{snowflake(self.clock)}", author, stored, sent, body, self.now())
        self.posts[post.urn] = post
        return post

    def expire(self, access_token: str) -> None:
        self.access[access_token].expires_at = self.now() - 1

    def revoke_member(self, sub: str) -> None:
        """The member removes the app in their LinkedIn settings."""
        for token in (*self.access.values(), *self.refresh.values()):
            if token.grant.member == sub:
                token.grant.revoked = True

    def asset_status(self, asset: Asset) -> str:
        if asset.uploaded_at is None:
            return "WAITING_UPLOAD"
        if self.now() < asset.uploaded_at + self.config.media_processing_secs:
            return "PROCESSING"
        return "PROCESSING_FAILED" if asset.fails else "AVAILABLE"

    def new_asset(self, kind: str, owner: str, size: int = 0) -> Asset:
        urn = f"urn:li:{kind}:{mint(size=9).replace('-', 'x').replace('_', 'y')}"
        asset = Asset(urn, owner, kind, self.now(), size)
        self.assets[urn] = asset
        return asset
