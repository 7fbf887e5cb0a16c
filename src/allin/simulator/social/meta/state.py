"""The simulated Meta's memory: users, Pages, Instagram accounts, tokens, posts, photos,
videos, Instagram containers and media, and usage counters."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Literal

from allin.simulator.social.common import CodeStore, Faults, FixedWindows, mint, unix
from allin.simulator.social.meta.config import (
    FacebookUser,
    InstagramAccount,
    MetaConfig,
    Page,
)

TokenKind = Literal["USER", "PAGE", "APP"]


def numeric_id(digits: int = 15, prefix: str = "1") -> str:
    return prefix + "".join(str(secrets.randbelow(10)) for _ in range(digits - len(prefix)))


@dataclass(slots=True)
class Token:
    value: str
    kind: TokenKind
    user_id: str
    scopes: tuple[str, ...]
    issued_at: float
    expires_at: float  # 0 = never
    page_id: str | None = None
    dead_subcode: int | None = None  # set when an event invalidates it (190 family)

    def expired(self, now: float) -> bool:
        return self.expires_at != 0 and now >= self.expires_at


@dataclass(slots=True)
class FeedPost:
    id: str  # {page-id}_{post-id}
    page_id: str
    message: str
    created_time: float
    link: str | None = None
    published: bool = True
    scheduled_publish_time: float | None = None
    photo_ids: list[str] = field(default_factory=list)
    video_id: str | None = None
    visible_at: float = 0.0  # videos appear once processed

    def is_published(self, now: float) -> bool:
        if self.scheduled_publish_time is not None:
            return now >= self.scheduled_publish_time
        return self.published


@dataclass(slots=True)
class Photo:
    id: str
    page_id: str
    caption: str
    created_time: float
    post_id: str | None = None
    published: bool = True
    attached: bool = False


@dataclass(slots=True)
class Video:
    id: str
    page_id: str
    title: str
    description: str
    created_time: float
    ready_at: float
    post_id: str


@dataclass(slots=True)
class Container:
    id: str
    ig_id: str
    media_type: str  # IMAGE | VIDEO | REELS | STORIES | CAROUSEL
    caption: str
    created_at: float
    ready_at: float
    is_carousel_item: bool = False
    children: list[str] = field(default_factory=list)
    error_subcode: int | None = None
    media_id: str | None = None  # once published


@dataclass(slots=True)
class IgMedia:
    id: str
    ig_id: str
    caption: str
    timestamp: float
    media_type: str  # IMAGE | VIDEO | CAROUSEL_ALBUM
    product_type: str  # FEED | REELS | STORY
    shortcode: str
    children: list[str] = field(default_factory=list)


class MetaState:
    """Everything the simulated Meta knows. Tests reach it as `app.state.sim`."""

    def __init__(self, config: MetaConfig) -> None:
        self.config = config
        self.clock = config.clock
        self.users: dict[str, FacebookUser] = {u.id: u for u in config.users}
        self.pages: dict[str, Page] = {p.id: p for p in config.pages}
        self.instagram: dict[str, InstagramAccount] = {a.id: a for a in config.instagram_accounts}
        self.codes = CodeStore(self.clock)
        self.tokens: dict[str, Token] = {}
        self.posts: dict[str, FeedPost] = {}
        self.photos: dict[str, Photo] = {}
        self.videos: dict[str, Video] = {}
        self.containers: dict[str, Container] = {}
        self.ig_media: dict[str, IgMedia] = {}
        self.publishes: list[tuple[float, str]] = []  # (time, ig user id)
        self.media_library: dict[str, bytes | None] = {}  # URL -> bytes (None: unreachable)
        self.windows = FixedWindows(self.clock)
        self.faults = Faults()
        self.deny_consent = config.deny_consent

    def now(self) -> float:
        return unix(self.clock)

    # --- tokens ---

    def mint_token(
        self,
        kind: TokenKind,
        user_id: str,
        scopes: tuple[str, ...],
        ttl: float,
        page_id: str | None = None,
    ) -> Token:
        now = self.now()
        token = Token(
            mint("EAAB", 120).replace("-", "Z").replace("_", "Y"),
            kind,
            user_id,
            scopes,
            now,
            now + ttl if ttl else 0,
            page_id,
        )
        self.tokens[token.value] = token
        return token

    def app_token(self) -> Token:
        """The app access token `{app-id}|{app-secret}`."""
        value = f"{self.config.app_id}|{self.config.app_secret}"
        if value not in self.tokens:
            self.tokens[value] = Token(value, "APP", "", (), self.now(), 0)
        return self.tokens[value]

    def page_token(self, user: Token, page_id: str) -> Token:
        """Page tokens got with a long-lived user token do not expire; one per user and Page."""
        for token in self.tokens.values():
            if (
                token.kind == "PAGE"
                and token.user_id == user.user_id
                and token.page_id == page_id
                and token.dead_subcode is None
            ):
                return token
        ttl = (
            0
            if user.expires_at == 0 or user.expires_at - user.issued_at > 86_400
            else user.expires_at - self.now()
        )
        return self.mint_token("PAGE", user.user_id, user.scopes, ttl, page_id)

    def invalidate_user(self, user_id: str, subcode: int) -> None:
        """460 password changed, 458 app removed, 459 checkpointed: every token of the user,
        Page tokens included, dies."""
        for token in self.tokens.values():
            if token.user_id == user_id and token.dead_subcode is None:
                token.dead_subcode = subcode

    def remove_role(self, user_id: str, page_id: str) -> None:
        """The user loses their role on the Page: its Page tokens die (190/492)."""
        user = self.users[user_id]
        if page_id in user.pages:
            user.pages.remove(page_id)
        for token in self.tokens.values():
            if token.user_id == user_id and token.page_id == page_id:
                token.dead_subcode = 492

    # --- Instagram ---

    def container_status(self, container: Container) -> str:
        if container.media_id is not None:
            return "PUBLISHED"
        now = self.now()
        if now >= container.created_at + self.config.container_ttl:
            return "EXPIRED"
        if now < container.ready_at:
            return "IN_PROGRESS"
        return "ERROR" if container.error_subcode is not None else "FINISHED"

    def quota_usage(self, ig_id: str) -> int:
        since = self.now() - 86_400
        return sum(1 for when, who in self.publishes if who == ig_id and when > since)

    def containers_today(self, ig_id: str) -> int:
        since = self.now() - 86_400
        return sum(1 for c in self.containers.values() if c.ig_id == ig_id and c.created_at > since)

    def page_of_instagram(self, ig_id: str) -> Page | None:
        return next((p for p in self.pages.values() if p.instagram_id == ig_id), None)
