"""Signed webhook deliveries: `TikTok-Signature: t=…,s=hex(HMAC-SHA256(secret, "{t}.{body}"))`.

At least once: every event is sent `webhook_duplicates` times (re-signed each time), and a
non-200 answer is retried with backoff until the delays run out, then dropped.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import httpx

from allin.core.clock import utcnow
from allin.core.logging import Category, get_logger
from allin.simulator.open_api.state import WebhookRecord, World

log = get_logger(Category.TIKTOK, component="open-api-simulator")


def envelope_bytes(world: World, record: WebhookRecord) -> bytes:
    envelope = {
        "client_key": world.config.client_key,
        "event": record.event,
        "create_time": record.create_time,
        "user_openid": record.open_id,
        "content": json.dumps(record.content, separators=(",", ":")),  # a JSON *string*
    }
    return json.dumps(envelope, separators=(",", ":")).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},s={mac.hexdigest()}"


async def deliver(world: World, http: httpx.AsyncClient, record: WebhookRecord) -> None:
    url = world.config.webhook_url
    if not url:
        return
    body = envelope_bytes(world, record)
    for _ in range(max(1, world.config.webhook_duplicates)):
        for delay in (0.0, *world.config.webhook_retry_delays):
            await asyncio.sleep(delay)
            record.attempts += 1
            header = signature(world.config.client_secret, int(utcnow().timestamp()), body)
            try:
                response = await http.post(
                    url,
                    content=body,
                    headers={"Content-Type": "application/json", "TikTok-Signature": header},
                )
            except httpx.HTTPError as exc:
                log.info("webhook delivery failed", event=record.event, error=type(exc).__name__)
                continue
            if response.status_code == 200:
                record.delivered += 1
                break


async def pump(world: World, http: httpx.AsyncClient) -> None:
    """Deliver what is queued, in order."""
    while world.webhook_outbox:
        await deliver(world, http, world.webhook_outbox.popleft())
