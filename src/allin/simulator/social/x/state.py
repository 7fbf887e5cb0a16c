"""The simulated X's memory: accounts, grants and tokens, posts, media and counters."""

from __future__ import annotations

from dataclasses import dataclass, field

from allin.simulator.social.common import CodeStore, Faults, FixedWindows, mint, snowflake, unix
from allin.simulator.social.x.config import XConfig, XUser


@dataclass(slots=True)
class Grant:
    """One consent; every token issued from it (the family) dies when it is revoked."""

    user_id: str
    scopes: tuple[str, ...]
    revoked: bool = False


@dataclass(slots=True)
class Token:
    value: str
    grant: Grant
    expires_at: float
    spent: bool = False  # refresh tokens: used once, then replaced


@dataclass(slots=True)
class Tweet:
    id: str
    author_id: str
    text: str
    created_at: float
    media_ids: list[str] = field(default_factory=list)
    in_reply_to: str | None = None
    in_reply_to_user_id: str | None = None
    conversation_id: str = ""
    quote_tweet_id: str | None = None
    poll: dict[str, object] | None = None
    reply_settings: str = "everyone"
    deleted: bool = False


@dataclass(slots=True)
class Media:
    id: str
    owner_id: str
    media_type: str
    category: str
    total_bytes: int
    created_at: float
    segments: dict[int, int] = field(default_factory=dict)  # index -> bytes
    finalized_at: float | None = None
    fails: bool = False
    width: int = 0
    height: int = 0

    @property
    def asynchronous(self) -> bool:
        return self.category in {"tweet_video", "tweet_gif", "amplify_video", "dm_video", "dm_gif"}

    @property
    def key_prefix(self) -> str:
        if "gif" in self.category:
            return "16_"
        return "7_" if "video" in self.category else "3_"


class XState:
    """Everything the simulated X knows. Tests reach it as `app.state.sim`."""

    def __init__(self, config: XConfig) -> None:
        self.config = config
        self.clock = config.clock
        self.users: dict[str, XUser] = {u.id: u for u in config.users}
        self.codes = CodeStore(self.clock)
        self.access: dict[str, Token] = {}
        self.refresh: dict[str, Token] = {}
        self.tweets: dict[str, Tweet] = {}
        self.media: dict[str, Media] = {}
        self.windows = FixedWindows(self.clock)
        self.faults = Faults()
        self.deny_consent = config.deny_consent
        self.usage_capped = False
        self.fail_next_media = 0  # processing of the next N finalized uploads fails

    def now(self) -> float:
        return unix(self.clock)

    def find_user(self, handle: str | None) -> XUser:
        if handle:
            for user in self.users.values():
                if handle in (user.id, user.username):
                    return user
        return next(iter(self.users.values()))

    def issue(self, grant: Grant) -> dict[str, object]:
        """RFC 6749 §5.1 as X answers it; a refresh token only with `offline.access`."""
        access = Token(mint(size=48), grant, self.now() + self.config.access_ttl)
        self.access[access.value] = access
        body: dict[str, object] = {
            "token_type": "bearer",
            "expires_in": self.config.access_ttl,
            "access_token": access.value,
            "scope": " ".join(grant.scopes),
        }
        if "offline.access" in grant.scopes:
            refresh = Token(mint(size=48), grant, self.now() + self.config.refresh_ttl)
            self.refresh[refresh.value] = refresh
            body["refresh_token"] = refresh.value
        return body

    def expire(self, access_token: str) -> None:
        self.access[access_token].expires_at = self.now() - 1

    def revoke_user(self, user_id: str) -> None:
        """The user removes the app at x.com/settings/connected_apps."""
        for token in (*self.access.values(), *self.refresh.values()):
            if token.grant.user_id == user_id:
                token.grant.revoked = True

    def new_tweet(self, author_id: str, text: str) -> Tweet:
        tweet_id = snowflake(self.clock)
        tweet = Tweet(tweet_id, author_id, text, self.now(), conversation_id=tweet_id)
        self.tweets[tweet_id] = tweet
        return tweet

    def user_tweets(self, user_id: str) -> list[Tweet]:
        found = [t for t in self.tweets.values() if t.author_id == user_id and not t.deleted]
        return sorted(found, key=lambda t: int(t.id), reverse=True)

    def media_state(self, media: Media) -> tuple[str, int]:
        """(state, progress %) of an upload's processing, by the clock."""
        if media.finalized_at is None:
            return "pending", 0
        elapsed = self.now() - media.finalized_at
        pending, work = self.config.media_pending_secs, self.config.media_processing_secs
        if not media.asynchronous or elapsed >= pending + work:
            return ("failed", 100) if media.fails else ("succeeded", 100)
        if elapsed < pending:
            return "pending", 0
        return "in_progress", min(99, int(100 * (elapsed - pending) / max(work, 1e-9)))

    def media_expired(self, media: Media) -> bool:
        start = media.finalized_at or media.created_at
        return self.now() >= start + self.config.media_expires_after
