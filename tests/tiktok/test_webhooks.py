"""Webhook signatures (unit and property) and signed, duplicated deliveries from the simulator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from allin.core.clock import utcnow
from allin.simulator.open_api import SimulatorConfig, create_open_api_simulator
from allin.tiktok.client import TikTokClient
from allin.tiktok.models import PrivacyLevel, VideoPostInfo
from allin.tiktok.publish import InMemoryPublishJournal, PollPolicy, Publisher
from allin.tiktok.webhooks import (
    InMemoryIdempotency,
    WebhookEvent,
    WebhookPayloadError,
    WebhookSignatureError,
    parse_event,
    parse_signature_header,
    sign,
    verify_and_parse,
    verify_signature,
)
from tests.support.server import serve
from tests.tiktok.conftest import MovableClock, Sim, connect, make_config

SECRET = "sim-client-secret"
BODY = json.dumps(
    {
        "client_key": "sim-client-key",
        "event": "post.publish.complete",
        "create_time": 1_700_000_000,
        "user_openid": "open-1",
        "content": json.dumps(
            {"publish_id": "v_pub_file~v2-1.1", "publish_type": "DIRECT_PUBLISH"}
        ),
    }
).encode()


def now() -> int:
    return int(utcnow().timestamp())


def test_docs_header_format() -> None:
    header = "t=1633174587,s=18494715036ac4416a1d0a673871a2edbcfc94d94bd88ccd2c5ec9b3425afe66"
    assert parse_signature_header(header) == (
        1633174587,
        "18494715036ac4416a1d0a673871a2edbcfc94d94bd88ccd2c5ec9b3425afe66",
    )


@given(st.binary(max_size=512), st.text(min_size=1, max_size=40))
def test_sign_verify_round_trip(body: bytes, secret: str) -> None:
    t = now()
    assert verify_signature(secret, sign(secret, t, body), body) == t


@given(st.binary(min_size=1, max_size=256), st.integers(min_value=0), st.integers(0, 7))
def test_any_body_change_is_rejected(body: bytes, position: int, bit: int) -> None:
    header = sign(SECRET, now(), body)
    tampered = bytearray(body)
    tampered[position % len(body)] ^= 1 << bit
    with pytest.raises(WebhookSignatureError):
        verify_signature(SECRET, header, bytes(tampered))


@pytest.mark.parametrize(
    "header", [None, "", "t=abc,s=00", "s=00", "t=1", "garbage", "t=1633174587,s="]
)
def test_malformed_headers(header: str | None) -> None:
    with pytest.raises(WebhookSignatureError):
        verify_signature(SECRET, header, BODY)


def test_wrong_secret_and_stale_timestamp(moved: MovableClock) -> None:
    with pytest.raises(WebhookSignatureError):
        verify_signature("other", sign(SECRET, now(), BODY), BODY)
    old = sign(SECRET, now(), BODY)
    moved.advance(301)
    with pytest.raises(WebhookSignatureError, match="Stale"):
        verify_signature(SECRET, old, BODY)
    assert verify_signature(SECRET, old, BODY, tolerance=400)
    with pytest.raises(WebhookSignatureError):
        verify_signature(SECRET, sign(SECRET, now() + 3600, BODY), BODY)  # from the future


def test_parse_event_and_idempotency() -> None:
    event = verify_and_parse(SECRET, sign(SECRET, now(), BODY), BODY, client_key="sim-client-key")
    assert event.is_publish_event and event.publish_id == "v_pub_file~v2-1.1"
    assert event.content["publish_type"] == "DIRECT_PUBLISH"
    again = parse_event(BODY)
    assert again.idempotency_key == event.idempotency_key
    seen = InMemoryIdempotency()
    assert seen.first_time(event.idempotency_key) and not seen.first_time(again.idempotency_key)
    with pytest.raises(WebhookSignatureError):
        verify_and_parse(SECRET, sign(SECRET, now(), BODY), BODY, client_key="another")


@pytest.mark.parametrize("body", [b"", b"[]", b"{}", b'{"event":"x","content":"[1]"}', b"nope"])
def test_bad_payloads(body: bytes) -> None:
    with pytest.raises(WebhookPayloadError):
        parse_event(body)


def test_idempotency_store_is_bounded() -> None:
    seen = InMemoryIdempotency(max_keys=2)
    for key in "abc":
        assert seen.first_time(key)
    assert seen.first_time("a")  # evicted oldest


# --- deliveries from the simulator ---


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[WebhookEvent], list[int]]]:
    """Our side of the webhook: verify, dedupe, record; fails its first request on purpose."""
    events: list[WebhookEvent] = []
    statuses: list[int] = []
    seen = InMemoryIdempotency()
    app = FastAPI()

    async def webhook(request: Request) -> Response:
        if not statuses:
            statuses.append(500)
            return PlainTextResponse("down", 500)
        body = await request.body()
        event = verify_and_parse(SECRET, request.headers.get("TikTok-Signature"), body)
        statuses.append(200)
        if seen.first_time(event.idempotency_key):
            events.append(event)
        return PlainTextResponse("ok")

    app.router.add_route("/webhook", webhook, methods=["POST"])
    async with serve(app) as url:
        yield url + "/webhook", events, statuses


async def test_signed_deliveries_with_duplicates_and_retries(
    receiver: tuple[str, list[WebhookEvent], list[int]], videos: dict[str, Path]
) -> None:
    url, events, statuses = receiver
    config = SimulatorConfig(
        webhook_url=url, webhook_duplicates=2, processing_delay=0.02, moderation_delay=0.02
    )
    app = create_open_api_simulator(config)
    async with serve(app) as sim_url:
        sim = Sim(sim_url, app.state.sim)
        async with TikTokClient(make_config(sim)) as client:
            tokens = await connect(client)
            publisher = Publisher(
                client, InMemoryPublishJournal(), poll=PollPolicy(initial=0.02, post_id_polls=50)
            )
            info = VideoPostInfo(privacy_level=PrivacyLevel.PUBLIC_TO_EVERYONE)
            record = await publisher.publish_file(tokens.access_token, videos["ok"], info)
            for _ in range(200):
                if len(events) >= 2:
                    break
                await asyncio.sleep(0.02)
    assert [e.event for e in events] == ["post.publish.complete", "post.publish.publicly_available"]
    assert events[1].content["post_id"] == record.post_ids[0]
    assert statuses[0] == 500  # retried after a failure
    assert statuses.count(200) == 4  # each event delivered twice, deduplicated by us
    assert all(e.publish_id == record.publish_id for e in events)
