"""Webhook verification and parsing, sans-I/O.

TikTok signs `"{t}.{raw body}"` with HMAC-SHA256 keyed by the client secret and sends
`TikTok-Signature: t=<unix>,s=<hex>`. Delivery is at least once, so every event has an
idempotency key; `content` is a JSON *string* inside the JSON envelope.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from allin.core.clock import utcnow
from allin.core.errors import BadRequestError, UnauthorizedError
from allin.core.text import is_ascii_digits

SIGNATURE_HEADER = "TikTok-Signature"
DEFAULT_TOLERANCE = 300.0

AUTHORIZATION_REMOVED = "authorization.removed"
PUBLISH_EVENTS = frozenset(
    {
        "post.publish.failed",
        "post.publish.complete",
        "post.publish.inbox_delivered",
        "post.publish.publicly_available",
        "post.publish.no_longer_publicaly_available",
    }
)
REMOVAL_REASONS = {
    0: "unknown",
    1: "user disconnected the app",
    2: "account deleted",
    3: "age changed",
    4: "account banned",
    5: "developer revoked",
}


class WebhookSignatureError(UnauthorizedError):
    code = "TIKTOK_WEBHOOK_SIGNATURE"
    default_message = "Invalid TikTok webhook signature"


class WebhookPayloadError(BadRequestError):
    code = "TIKTOK_WEBHOOK_PAYLOAD"
    default_message = "Unreadable TikTok webhook payload"


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    client_key: str
    event: str
    create_time: int
    user_openid: str | None
    content: dict[str, Any]
    idempotency_key: str

    @property
    def publish_id(self) -> str | None:
        value = self.content.get("publish_id")
        return str(value) if value is not None else None

    @property
    def is_publish_event(self) -> bool:
        return self.event in PUBLISH_EVENTS

    @property
    def is_authorization_removed(self) -> bool:
        return self.event == AUTHORIZATION_REMOVED


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value TikTok would send for this body."""
    digest = hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},s={digest}"


def parse_signature_header(value: str) -> tuple[int, str]:
    parts: dict[str, str] = {}
    for element in value.split(","):
        key, sep, item = element.strip().partition("=")
        if sep:
            parts[key.strip()] = item.strip()
    timestamp, signature = parts.get("t", ""), parts.get("s", "")
    if not is_ascii_digits(timestamp) or not signature:
        raise WebhookSignatureError("Malformed TikTok-Signature header")
    return int(timestamp), signature.lower()


def verify_signature(
    secret: str, header: str | None, body: bytes, *, tolerance: float = DEFAULT_TOLERANCE
) -> int:
    """Check the signature over the raw body and the timestamp's age; returns the timestamp."""
    if not secret:
        raise WebhookSignatureError("No client secret configured to verify webhooks")
    if not header:
        raise WebhookSignatureError("Missing TikTok-Signature header")
    timestamp, signature = parse_signature_header(header)
    expected = sign(secret, timestamp, body).rpartition("s=")[2]
    if not hmac.compare_digest(expected, signature):
        raise WebhookSignatureError()
    if abs(utcnow().timestamp() - timestamp) > tolerance:
        raise WebhookSignatureError("Stale TikTok webhook timestamp")
    return timestamp


def idempotency_key(envelope: dict[str, Any]) -> str:
    """Stable across TikTok's duplicate deliveries (which are re-signed, so not the header)."""
    material = json.dumps(
        [
            envelope.get("client_key"),
            envelope.get("event"),
            envelope.get("create_time"),
            envelope.get("user_openid"),
            envelope.get("content"),
        ],
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(material.encode()).hexdigest()


def parse_event(body: bytes) -> WebhookEvent:
    try:
        envelope = json.loads(body)
        if not isinstance(envelope, dict):
            raise TypeError("envelope is not an object")
        raw_content = envelope.get("content") or "{}"
        content = json.loads(raw_content) if isinstance(raw_content, str) else raw_content
        if not isinstance(content, dict):
            raise TypeError("content is not an object")
        return WebhookEvent(
            client_key=str(envelope.get("client_key", "")),
            event=str(envelope["event"]),
            create_time=int(envelope.get("create_time", 0)),
            user_openid=envelope.get("user_openid"),
            content=content,
            idempotency_key=idempotency_key(envelope),
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise WebhookPayloadError(details={"reason": str(exc)}) from exc


def verify_and_parse(
    secret: str,
    header: str | None,
    body: bytes,
    *,
    client_key: str | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> WebhookEvent:
    """What the webhook route does before anything else."""
    verify_signature(secret, header, body, tolerance=tolerance)
    event = parse_event(body)
    if client_key and event.client_key and event.client_key != client_key:
        raise WebhookSignatureError("Webhook is for another client_key")
    return event


class InMemoryIdempotency:
    """First-seen check for event keys (`stores.DbIdempotency` keeps them in a unique column)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._seen: dict[str, None] = {}
        self._max = max_keys

    def first_time(self, key: str) -> bool:
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > self._max:
            self._seen.pop(next(iter(self._seen)))
        return True

    async def claim(self, key: str, event: str = "") -> bool:
        """The service's IdempotencyStore protocol (the database one is async)."""
        return self.first_time(key)

    async def release(self, key: str) -> None:
        """Forget a key whose handling failed, so TikTok's re-delivery is handled."""
        self._seen.pop(key, None)
