"""The simulated TikTok's memory: users, codes, grants, publishes, limits and injected faults."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from allin.core.clock import clock, utcnow
from allin.simulator.open_api.config import SimulatorConfig

DAY = 86_400.0


def log_id() -> str:
    """TikTok's shape: YYYYMMDDHHMMSS + 20 hex characters."""
    return utcnow().strftime("%Y%m%d%H%M%S") + secrets.token_hex(10).upper()


def _numeric_id() -> int:
    return 7_000_000_000_000_000_000 + secrets.randbelow(999_999_999_999_999_999)


@dataclass(slots=True)
class SimVideo:
    id: int
    create_time: int
    title: str
    privacy: str = "PUBLIC_TO_EVERYONE"
    duration: int = 15
    width: int = 1080
    height: int = 1920
    view_count: int = 0
    like_count: int = 0
    comment_count: int = 0
    share_count: int = 0


@dataclass(slots=True)
class SimUser:
    open_id: str
    display_name: str
    username: str
    union_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    bio_description: str = ""
    is_verified: bool = False
    follower_count: int = 0
    following_count: int = 0
    likes_count: int = 0
    private_account: bool = False
    banned: bool = False
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int = 600
    videos: list[SimVideo] = field(default_factory=list)

    @property
    def privacy_level_options(self) -> list[str]:
        if self.private_account:
            return ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
        return ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]


@dataclass(slots=True)
class AuthCode:
    code: str
    open_id: str
    scopes: tuple[str, ...]
    redirect_uri: str
    challenge: str | None
    expires: float
    used: bool = False


@dataclass(slots=True)
class Grant:
    """One user's authorization of the app; revoking it kills every token in it."""

    open_id: str
    scopes: tuple[str, ...]
    revoked: bool = False


@dataclass(slots=True)
class AccessToken:
    token: str
    grant: Grant | None  # None for client tokens
    expires: float

    def valid(self) -> bool:
        return clock.monotonic() < self.expires and not (self.grant and self.grant.revoked)


@dataclass(slots=True)
class RefreshToken:
    token: str
    grant: Grant
    expires: float
    dead: bool = False


@dataclass(slots=True)
class Publish:
    publish_id: str
    open_id: str
    kind: str  # direct | inbox | photo
    source: str  # FILE_UPLOAD | PULL_FROM_URL
    privacy: str
    title: str
    created: float
    total: int = 0
    status: str = "PROCESSING_UPLOAD"
    uploaded_bytes: int = 0
    downloaded_bytes: int = 0
    chunk_size: int = 0
    chunk_count: int = 0
    upload_id: str | None = None
    upload_token: str | None = None
    upload_expires: float = 0.0
    ready_at: float | None = None  # bytes all in; processing finishes after the delay
    fail_reason: str | None = None
    forced_fail: str | None = None
    post_ids: list[int] = field(default_factory=list)
    public_at: float | None = None
    sha256: str = ""
    url: str | None = None
    photo_urls: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Fault:
    status: int
    code: str | None
    remaining: int
    retry_after: int | None = None
    delay: float = 0.0


class SlidingWindow:
    """Requests per 60 s, per key: the documented per-minute limits."""

    def __init__(self) -> None:
        self._hits: dict[tuple[str, str], deque[float]] = {}

    def hit(self, bucket: str, key: str, limit: int, window: float = 60.0) -> float | None:
        """Record a request; None if allowed, else seconds until one is allowed again."""
        now = clock.monotonic()
        hits = self._hits.setdefault((bucket, key), deque())
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= limit:
            return max(0.0, hits[0] + window - now)
        hits.append(now)
        return None


@dataclass(slots=True)
class WebhookRecord:
    event: str
    open_id: str | None
    content: dict[str, object]
    create_time: int
    attempts: int = 0
    delivered: int = 0


class World:
    """Everything the simulated TikTok knows. Tests reach it as `app.state.sim`."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.users: dict[str, SimUser] = {}
        self.codes: dict[str, AuthCode] = {}
        self.access: dict[str, AccessToken] = {}
        self.refresh: dict[str, RefreshToken] = {}
        self.publishes: dict[str, Publish] = {}
        self.uploads: dict[str, str] = {}  # upload_id -> publish_id
        self.limits = SlidingWindow()
        self.faults: dict[str, deque[Fault]] = {}
        self.fail_chunks: deque[int] = deque()  # statuses for the next chunk PUTs
        self.lose_chunk_replies = 0  # chunks stored but answered with a 500
        self.next_fail_reasons: deque[str] = deque()
        self.post_log: deque[tuple[float, str]] = deque()  # (time, open_id) of direct posts
        self.active_users: dict[str, float] = {}  # open_id -> first publish in the window
        self.webhooks: list[WebhookRecord] = []
        self.webhook_outbox: deque[WebhookRecord] = deque()
        self.deny_consent = False
        self.tasks: set[asyncio.Task[None]] = set()
        self.digests: dict[str, hashlib._Hash] = {}  # publish_id -> SHA-256 of bytes so far
        self.calls: dict[str, int] = {}
        self.current_user = self.add_user("creator", "Sim Creator").open_id

    # --- fixtures and controls for tests ---

    def add_user(self, username: str, display_name: str, **fields: object) -> SimUser:
        user = SimUser(str(uuid.uuid4()), display_name, username, **fields)  # type: ignore[arg-type]
        self.users[user.open_id] = user
        return user

    def login_as(self, open_id: str) -> None:
        self.current_user = open_id

    def inject(
        self,
        endpoint: str,
        status: int,
        code: str | None = None,
        *,
        times: int = 1,
        retry_after: int | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next `times` calls of `endpoint` with this error (code None = non-JSON)."""
        self.faults.setdefault(endpoint, deque()).append(
            Fault(status, code, times, retry_after, delay)
        )

    def take_fault(self, endpoint: str) -> Fault | None:
        queue = self.faults.get(endpoint)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return fault

    def expire_access_token(self, token: str) -> None:
        self.access[token].expires = clock.monotonic() - 1

    def remove_authorization(self, open_id: str, reason: int = 1) -> None:
        """The user disconnects the app in TikTok: tokens die, a webhook follows."""
        grants = [a.grant for a in self.access.values()] + [r.grant for r in self.refresh.values()]
        for grant in grants:
            if grant is not None and grant.open_id == open_id:
                grant.revoked = True
        self.emit("authorization.removed", open_id, {"reason": reason})

    def complete_inbox(self, publish_id: str) -> None:
        """The user finishes an inbox draft in the TikTok app."""
        publish = self.publishes[publish_id]
        if publish.status == "SEND_TO_USER_INBOX":
            self._complete(publish, clock.monotonic())

    # --- tokens ---

    def new_code(
        self, open_id: str, scopes: tuple[str, ...], redirect_uri: str, challenge: str | None
    ) -> str:
        # Real codes contain '*' and '!': the client must URL-decode before the token call.
        code = secrets.token_urlsafe(24) + "*0!" + str(secrets.randbelow(9999))
        self.codes[code] = AuthCode(
            code, open_id, scopes, redirect_uri, challenge, clock.monotonic() + self.config.code_ttl
        )
        return code

    def issue(self, grant: Grant) -> dict[str, object]:
        profile = self.config.token_profile
        now = clock.monotonic()
        access = "act." + secrets.token_urlsafe(32)
        refresh = "rft." + secrets.token_urlsafe(32)
        self.access[access] = AccessToken(access, grant, now + profile.access_ttl)
        self.refresh[refresh] = RefreshToken(refresh, grant, now + profile.refresh_ttl)
        return self.token_body(access, refresh, grant)

    def token_body(self, access: str, refresh: str, grant: Grant) -> dict[str, object]:
        profile = self.config.token_profile
        remaining = round(self.refresh[refresh].expires - clock.monotonic())
        return {
            "access_token": access,
            "expires_in": profile.access_ttl,
            "open_id": grant.open_id,
            "refresh_expires_in": max(0, remaining),
            "refresh_token": refresh,
            "scope": ",".join(grant.scopes),
            "token_type": "Bearer",
        }

    def client_token(self) -> dict[str, object]:
        token = "clt." + secrets.token_urlsafe(32)
        self.access[token] = AccessToken(
            token, None, clock.monotonic() + self.config.client_token_ttl
        )
        return {
            "access_token": token,
            "expires_in": self.config.client_token_ttl,
            "token_type": "Bearer",
        }

    # --- caps (24 h windows) ---

    def posts_today(self, open_id: str) -> int:
        horizon = clock.monotonic() - DAY
        return sum(1 for at, who in self.post_log if who == open_id and at > horizon)

    def pending_shares(self, open_id: str) -> int:
        horizon = clock.monotonic() - DAY
        return sum(
            1
            for p in self.publishes.values()
            if p.open_id == open_id
            and p.kind == "inbox"
            and p.status != "PUBLISH_COMPLETE"
            and p.status != "FAILED"
            and p.created > horizon
        )

    def over_user_cap(self, open_id: str) -> bool:
        horizon = clock.monotonic() - DAY
        active = {who for who, at in self.active_users.items() if at > horizon}
        if open_id in active:
            return False
        caps = [c for c in (self.config.active_user_cap,) if c is not None]
        if not self.config.audited:
            caps.append(self.config.unaudited_user_cap)
        return any(len(active) >= cap for cap in caps)

    def mark_active(self, open_id: str) -> None:
        horizon = clock.monotonic() - DAY
        since = self.active_users.get(open_id)
        if since is None or since <= horizon:
            self.active_users[open_id] = clock.monotonic()

    # --- publishes ---

    def new_publish(
        self, open_id: str, kind: str, source: str, privacy: str, title: str, *, photo: bool = False
    ) -> Publish:
        prefix = ("p_" if photo else "v_") + ("inbox" if kind == "inbox" else "pub")
        medium = "file" if source == "FILE_UPLOAD" else "url"
        sep = "~v2-1." if kind == "direct" and medium == "file" else "~v2."
        publish_id = f"{prefix}_{medium}{sep}{_numeric_id()}"
        status = "PROCESSING_UPLOAD" if source == "FILE_UPLOAD" else "PROCESSING_DOWNLOAD"
        publish = Publish(
            publish_id, open_id, kind, source, privacy, title, clock.monotonic(), status=status
        )
        if self.next_fail_reasons:
            publish.forced_fail = self.next_fail_reasons.popleft()
        self.publishes[publish_id] = publish
        if kind == "direct" or kind == "photo":
            self.post_log.append((clock.monotonic(), open_id))
        self.mark_active(open_id)
        return publish

    def bytes_in(self, publish: Publish) -> None:
        """All bytes arrived (upload finished or download done): start processing."""
        publish.ready_at = clock.monotonic()

    def fail(self, publish: Publish, reason: str) -> None:
        if publish.status in ("FAILED", "PUBLISH_COMPLETE"):
            return
        publish.status = "FAILED"
        publish.fail_reason = reason
        self.emit(
            "post.publish.failed",
            publish.open_id,
            {"publish_id": publish.publish_id, "reason": reason, "publish_type": _ptype(publish)},
        )

    def advance(self) -> None:
        """Move every publish along by the clock (called on reads and by the ticker)."""
        now = clock.monotonic()
        for publish in self.publishes.values():
            self._advance(publish, now)

    def _advance(self, publish: Publish, now: float) -> None:
        if publish.status in ("PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD"):
            if publish.ready_at is None or now < publish.ready_at + self.config.processing_delay:
                return
            if publish.forced_fail:
                self.fail(publish, publish.forced_fail)
            elif publish.kind == "inbox":
                publish.status = "SEND_TO_USER_INBOX"
                self.emit(
                    "post.publish.inbox_delivered",
                    publish.open_id,
                    {"publish_id": publish.publish_id, "publish_type": "INBOX_SHARE"},
                )
            else:
                self._complete(publish, now)
        elif (
            publish.status == "PUBLISH_COMPLETE" and publish.public_at and now >= publish.public_at
        ):
            publish.public_at = None
            post_id = _numeric_id()
            publish.post_ids.append(post_id)
            user = self.users[publish.open_id]
            user.videos.append(
                SimVideo(post_id, int(utcnow().timestamp()), publish.title, publish.privacy)
            )
            self.emit(
                "post.publish.publicly_available",
                publish.open_id,
                {
                    "publish_id": publish.publish_id,
                    "post_id": str(post_id),
                    "publish_type": _ptype(publish),
                },
            )

    def _complete(self, publish: Publish, now: float) -> None:
        publish.status = "PUBLISH_COMPLETE"
        if publish.privacy != "SELF_ONLY":
            publish.public_at = now + self.config.moderation_delay
        self.emit(
            "post.publish.complete",
            publish.open_id,
            {"publish_id": publish.publish_id, "publish_type": _ptype(publish)},
        )

    # --- webhooks ---

    def emit(self, event: str, open_id: str | None, content: dict[str, object]) -> None:
        record = WebhookRecord(event, open_id, content, int(utcnow().timestamp()))
        self.webhooks.append(record)
        if self.config.webhook_url:
            self.webhook_outbox.append(record)

    def upload_digest(self, publish_id: str) -> hashlib._Hash:
        return self.digests.setdefault(publish_id, hashlib.sha256())

    def count(self, endpoint: str) -> None:
        self.calls[endpoint] = self.calls.get(endpoint, 0) + 1


def _ptype(publish: Publish) -> str:
    # Only INBOX_SHARE is documented; DIRECT_PUBLISH is what other TikTok surfaces use.
    return "INBOX_SHARE" if publish.kind == "inbox" else "DIRECT_PUBLISH"


def utc_datetime() -> datetime:
    return utcnow()
