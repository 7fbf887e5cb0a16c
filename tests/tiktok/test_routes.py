"""The HTTP routes end to end: a real AllIN server and the Open API simulator, both on loopback,
on SQLite and PostgreSQL. Connect, read, analytics, publish, status, webhooks, disconnect."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from allin.core.config import Settings
from allin.core.crypto import cipher_from_settings
from allin.core.domain import app_state
from allin.db.engine import create_engine, create_session_factory
from allin.simulator.open_api import SimulatorConfig
from allin.simulator.open_api.state import SimVideo
from allin.social.models import SocialAccount, token_context
from allin.tiktok.stores import DbPublishJournal
from allin.tiktok.tables import TikTokAnalyticsSnapshot, TikTokWebhookEvent
from allin.tiktok.webhooks import sign
from tests.auth.helpers import signed_in
from tests.support.server import serve
from tests.tiktok.conftest import Sim
from tests.tiktok.routes import (
    PREFIX,
    authorize,
    connect_account,
    error_code,
    eventually,
    listen_for_webhooks,
    service_of,
    sim_settings,
    video_form,
)

PUBLIC = {"privacy_level": "PUBLIC_TO_EVERYONE", "title": "hello #allin"}


@pytest.fixture
def sim_config() -> SimulatorConfig:
    return SimulatorConfig(
        processing_delay=0.05, moderation_delay=0.05, tick_interval=0.02, webhook_duplicates=2
    )


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str, sim: Sim) -> Settings:
    # A small general body limit: the publish route alone must accept whole videos.
    return make_settings(database_url=database_url, max_body_bytes=4096, **sim_settings(sim))


async def _count(app: FastAPI, model: Any) -> int:
    async with app_state(app).session_factory() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_connect_then_read_profile_videos_and_analytics(
    client: httpx.AsyncClient, app: FastAPI, sim: Sim
) -> None:
    alice = await signed_in(client, app)
    creator = sim.world.users[sim.world.current_user]
    creator.follower_count = 12
    creator.videos = [
        SimVideo(7_300_000_000_000_000_001, 1_700_000_000, "first", view_count=100, like_count=5),
        SimVideo(7_300_000_000_000_000_002, 1_700_000_100, "second", view_count=300,
                 like_count=20, comment_count=3, share_count=2),
    ]  # fmt: skip
    account = await connect_account(client, alice, sim)
    assert account["open_id"] == creator.open_id and account["status"] == "active"
    assert account["display_name"] == "Sim Creator" and "video.publish" in account["scopes"]
    assert "access_token" not in account and "refresh_token" not in account

    listed = await client.get(f"{PREFIX}/accounts", headers=alice.headers)
    assert [a["id"] for a in listed.json()["data"]] == [account["id"]]
    async with app_state(app).session_factory() as db:
        row = await db.get(SocialAccount, uuid.UUID(account["id"]))
    assert row is not None and row.access_token_enc and "act." not in row.access_token_enc
    assert (
        cipher_from_settings(app_state(app).settings)
        .decrypt(row.access_token_enc, token_context(row.id))
        .startswith("act.")
    )

    base = f"{PREFIX}/{account['id']}"
    me = await client.get(f"{base}/me", headers=alice.headers)
    assert me.json()["data"]["display_name"] == "Sim Creator"
    stats = await client.get(
        f"{base}/me", headers=alice.headers, params={"fields": "open_id,follower_count"}
    )
    assert stats.json()["data"]["follower_count"] == 12

    page = await client.get(f"{base}/videos", headers=alice.headers, params={"max_count": 1})
    first = page.json()["data"]
    assert [v["title"] for v in first["videos"]] == ["second"] and first["has_more"]
    rest = await client.get(
        f"{base}/videos", headers=alice.headers, params={"cursor": first["cursor"]}
    )
    assert [v["title"] for v in rest.json()["data"]["videos"]] == ["first"]

    numbers = (await client.get(f"{base}/analytics", headers=alice.headers)).json()["data"]
    assert (numbers["followers"], numbers["views"], numbers["likes"]) == (12, 400, 25)
    assert numbers["engagement_rate"] == 7.5  # (25 + 3 + 2) / 400 x 100
    assert [v["engagement_rate"] for v in numbers["videos"]] == [8.3333, 5.0]
    assert [d["views"] for d in numbers["history"]] == [400]
    calls = sim.world.calls["video_list"]
    await client.get(f"{base}/analytics", headers=alice.headers)
    assert sim.world.calls["video_list"] == calls  # cached: TikTok not asked again
    creator.videos[0].view_count = 500
    fresh = await client.get(f"{base}/analytics", headers=alice.headers, params={"fresh": True})
    assert fresh.json()["data"]["views"] == 800
    assert [d["views"] for d in fresh.json()["data"]["history"]] == [800]  # one point per day
    assert await _count(app, TikTokAnalyticsSnapshot) == 1


async def test_publish_a_file_then_status_and_webhooks_once_each(
    client: httpx.AsyncClient, app: FastAPI, sim: Sim, videos: dict[str, Path], settings: Settings
) -> None:
    listen_for_webhooks(client, sim)
    alice = await signed_in(client, app)
    account = await connect_account(client, alice, sim)
    base = f"{PREFIX}/{account['id']}"
    assert videos["ok"].stat().st_size > settings.max_body_bytes  # only this route allows it

    posted = await client.post(
        f"{base}/publish", headers=alice.headers, **video_form(videos["ok"], **PUBLIC)
    )
    assert posted.status_code == 202, posted.text
    publish = posted.json()["data"]
    assert publish["source"] == "FILE_UPLOAD" and publish["state"] == "PROCESSING"
    assert publish["uploaded_bytes"] == videos["ok"].stat().st_size
    tiktok_id = publish["publish_id"]
    assert sim.world.publishes[tiktok_id].title == PUBLIC["title"]
    uploads = settings.data_dir / "tiktok-uploads"
    assert list(uploads.iterdir()) == []  # TikTok holds the bytes: our copy is gone

    async def public_with_post_id() -> bool:
        status = await client.get(f"{base}/publish/{publish['id']}", headers=alice.headers)
        data = status.json()["data"]["publish"]
        return data["state"] == "COMPLETE" and bool(data["post_ids"])

    await eventually(public_with_post_id)  # the post id arrives by webhook only
    by_tiktok_id = await client.get(f"{base}/publish/{tiktok_id}", headers=alice.headers)
    assert by_tiktok_id.json()["data"]["publish"]["id"] == publish["id"]

    events = [w for w in sim.world.webhooks if w.content.get("publish_id") == tiktok_id]
    await eventually(lambda: _true(all(w.delivered == 2 for w in events)))
    assert {w.event for w in events} == {"post.publish.complete", "post.publish.publicly_available"}
    assert await _count(app, TikTokWebhookEvent) == len(events)  # each handled once


async def _true(value: bool) -> bool:
    return value


@pytest.fixture
async def media(videos: dict[str, Path], sim: Sim) -> AsyncIterator[str]:
    """A media host TikTok can pull from ("localhost" is the verified prefix)."""
    host = FastAPI()

    async def video(_: Request) -> Response:
        return FileResponse(videos["ok"], media_type="video/mp4")

    host.router.add_route("/media/ok.mp4", video)
    sim.config.pull_require_https = False
    async with serve(host) as url:
        base = url.replace("127.0.0.1", "localhost")
        sim.config.verified_url_prefixes = [base + "/media/"]
        yield base + "/media"


async def test_publish_from_url_to_the_inbox(
    client: httpx.AsyncClient, app: FastAPI, sim: Sim, media: str
) -> None:
    alice = await signed_in(client, app)
    account = await connect_account(client, alice, sim)
    base = f"{PREFIX}/{account['id']}"
    posted = await client.post(
        f"{base}/publish",
        headers=alice.headers,
        data={"video_url": f"{media}/ok.mp4", "mode": "inbox"},
    )
    assert posted.status_code == 202, posted.text
    publish = posted.json()["data"]
    assert publish["source"] == "PULL_FROM_URL" and publish["mode"] == "inbox"

    async def in_the_inbox() -> bool:
        status = await client.get(f"{base}/publish/{publish['id']}", headers=alice.headers)
        return bool(status.json()["data"]["publish"]["state"] == "INBOX")

    await eventually(in_the_inbox)
    assert sim.world.publishes[publish["publish_id"]].downloaded_bytes > 0


async def test_authorization_removed_asks_for_a_reconnect(
    client: httpx.AsyncClient, app: FastAPI, sim: Sim
) -> None:
    listen_for_webhooks(client, sim)
    alice = await signed_in(client, app)
    account = await connect_account(client, alice, sim)
    sim.world.remove_authorization(account["open_id"], reason=1)

    async def flagged() -> bool:
        listed = await client.get(f"{PREFIX}/accounts", headers=alice.headers)
        return bool(listed.json()["data"][0]["status"] == "reconnect_required")

    await eventually(flagged)
    me = await client.get(f"{PREFIX}/{account['id']}/me", headers=alice.headers)
    assert me.status_code == 409 and error_code(me) == "TIKTOK_INVALID_TOKEN"
    again = await connect_account(client, alice, sim)
    assert again["id"] == account["id"] and again["status"] == "active"  # history kept
    assert (await client.get(f"{PREFIX}/{account['id']}/me", headers=alice.headers)).is_success


async def test_users_never_see_each_others_accounts_or_publishes(
    client: httpx.AsyncClient, app: FastAPI, sim: Sim, videos: dict[str, Path]
) -> None:
    alice = await signed_in(client, app)
    bob = await signed_in(client, app)
    first_creator = sim.world.current_user
    account = await connect_account(client, alice, sim)
    base = f"{PREFIX}/{account['id']}"
    posted = await client.post(
        f"{base}/publish", headers=alice.headers, **video_form(videos["ok"], **PUBLIC)
    )
    record = posted.json()["data"]

    for method, path in [
        ("GET", f"{base}/me"),
        ("GET", f"{base}/videos"),
        ("GET", f"{base}/analytics"),
        ("GET", f"{base}/publish/{record['id']}"),
        ("GET", f"{base}/publish/{record['publish_id']}"),
        ("DELETE", base),
    ]:
        response = await client.request(method, path, headers=bob.headers)
        assert response.status_code == 404 and error_code(response) == "NOT_FOUND", path
    stolen = await client.post(
        f"{base}/publish", headers=bob.headers, **video_form(videos["ok"], **PUBLIC)
    )
    assert stolen.status_code == 404
    assert (await client.get(f"{PREFIX}/accounts", headers=bob.headers)).json()["data"] == []

    own = await connect_account(client, bob, sim, sim.world.add_user("bob", "Bob").open_id)
    foreign = await client.get(f"{PREFIX}/{own['id']}/publish/{record['id']}", headers=bob.headers)
    assert foreign.status_code == 404
    sim.world.login_as(first_creator)  # Bob signs in to TikTok as Alice's creator account
    query = await authorize(client, bob)
    taken = await client.get(f"{PREFIX}/callback?{query}")
    assert taken.status_code == 409 and error_code(taken) == "TIKTOK_ACCOUNT_IN_USE"
    assert (await client.get(f"{base}/me", headers=alice.headers)).is_success


async def test_bad_input_gets_the_envelope(
    client: httpx.AsyncClient, app: FastAPI, sim: Sim, videos: dict[str, Path], settings: Settings
) -> None:
    alice = await signed_in(client, app)
    account = await connect_account(client, alice, sim)
    base = f"{PREFIX}/{account['id']}"
    publish = f"{base}/publish"
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"data": {"privacy_level": "SELF_ONLY"}}, 422, "VALIDATION_ERROR"),
        ({**video_form(videos["ok"], video_url="https://x.example/v.mp4", **PUBLIC)}, 422,
         "VALIDATION_ERROR"),
        (video_form(videos["ok"]), 422, "VALIDATION_ERROR"),  # direct post without privacy
        (video_form(videos["ok"], privacy_level="EVERYONE"), 422, "VALIDATION_ERROR"),
        (video_form(videos["ok"], privacy_level="FOLLOWER_OF_CREATOR"), 422,
         "TIKTOK_VALIDATION_ERROR"),  # not among this creator's options
        (video_form(videos["short"], **PUBLIC), 422, "TIKTOK_VALIDATION_ERROR"),
        ({"data": {"video_url": "ftp://x.example/v.mp4", **PUBLIC}}, 422, "VALIDATION_ERROR"),
    ]  # fmt: skip
    for request, status, code in cases:
        response = await client.post(publish, headers=alice.headers, **request)
        assert (response.status_code, error_code(response)) == (status, code), response.text
    short = await client.post(
        publish, headers=alice.headers, **video_form(videos["short"], **PUBLIC)
    )
    assert short.json()["error"]["details"]["tiktok_code"] == "video_duration_too_short"
    assert list((settings.data_dir / "tiktok-uploads").iterdir()) == []

    reads: list[tuple[str, dict[str, str | int], int]] = [
        (f"{base}/me", {"fields": "open_id,password"}, 422),
        (f"{base}/videos", {"max_count": 50}, 422),
        (f"{base}/analytics", {"days": 0}, 422),
        (f"{base}/publish/nope", {}, 404),
        (f"{PREFIX}/not-a-uuid/me", {}, 404),
    ]
    for path, params, status in reads:
        response = await client.get(path, headers=alice.headers, params=params)
        assert response.status_code == status, (path, response.text)
        error_code(response)

    bare = await client.get(f"{PREFIX}/callback")
    assert bare.json()["data"]["redirect_uri"].endswith("/api/integrations/tiktok/callback")
    query = await authorize(client, alice)
    forged = await client.get(f"{PREFIX}/callback", params={"code": "x", "state": "0" * 64})
    assert forged.status_code == 409 and error_code(forged) == "TIKTOK_AUTH_ERROR"
    assert (await client.get(f"{PREFIX}/callback?{query}")).status_code == 200
    replay = await client.get(f"{PREFIX}/callback?{query}")  # states are single-use
    assert (
        replay.status_code == 409
        and replay.json()["error"]["details"]["tiktok_code"] == "state_mismatch"
    )


async def test_webhook_signature_duplicates_and_body_limit(
    client: httpx.AsyncClient, app: FastAPI, sim: Sim
) -> None:
    body = json.dumps(
        {"client_key": sim.config.client_key, "event": "post.publish.complete",
         "create_time": 1_800_000_000, "user_openid": "nobody",
         "content": json.dumps({"publish_id": "v_pub_file~v2-1.1"})}
    ).encode()  # fmt: skip
    now = int(time.time())
    secret = sim.config.client_secret
    url = f"{PREFIX}/webhook"

    def post(content: bytes, signature: str | None) -> Any:
        headers = {"TikTok-Signature": signature} if signature else {}
        return client.post(url, content=content, headers=headers)

    first = await post(body, sign(secret, now, body))
    again = await post(body, sign(secret, now + 1, body))  # TikTok re-signs re-deliveries
    assert first.json()["data"] == {
        "received": True,
        "duplicate": False,
        "event": "post.publish.complete",
    }
    assert again.json()["data"]["duplicate"] is True
    for content, signature, status, code in [
        (body, None, 401, "TIKTOK_WEBHOOK_SIGNATURE"),
        (body, sign("wrong-secret", now, body), 401, "TIKTOK_WEBHOOK_SIGNATURE"),
        (body, sign(secret, now - 3600, body), 401, "TIKTOK_WEBHOOK_SIGNATURE"),
        (b"{not json", sign(secret, now, b"{not json"), 400, "TIKTOK_WEBHOOK_PAYLOAD"),
        (b"x" * 5000, sign(secret, now, b"x" * 5000), 413, "PAYLOAD_TOO_LARGE"),
    ]:
        response = await post(content, signature)
        assert (response.status_code, error_code(response)) == (status, code)
    assert await _count(app, TikTokWebhookEvent) == 1


async def test_disconnect_revokes_and_forgets(
    client: httpx.AsyncClient, app: FastAPI, sim: Sim
) -> None:
    alice = await signed_in(client, app)
    account = await connect_account(client, alice, sim)
    gone = await client.delete(f"{PREFIX}/{account['id']}", headers=alice.headers)
    assert gone.json()["data"] == {"id": account["id"], "revoked": True}
    grants = [t.grant for t in sim.world.access.values() if t.grant]
    assert grants and all(g.revoked for g in grants if g.open_id == account["open_id"])
    assert (await client.get(f"{PREFIX}/accounts", headers=alice.headers)).json()["data"] == []
    assert await _count(app, SocialAccount) == 0
    again = await client.delete(f"{PREFIX}/{account['id']}", headers=alice.headers)
    assert again.status_code == 404


async def test_breaker_admin_endpoints_and_health(
    client: httpx.AsyncClient, app: FastAPI, sim: Sim
) -> None:
    from allin.auth.models import Role

    admin = await signed_in(client, app, role=Role.ADMIN)
    alice = await signed_in(client, app)
    stats_url = "/api/admin/tiktok/circuit-breaker"
    denied = await client.get(stats_url, headers=alice.headers)
    assert denied.status_code == 403 and error_code(denied) == "AUTH_011"
    stats = (await client.get(stats_url, headers=admin.headers)).json()["data"]
    assert stats["api"]["state"] == "CLOSED" and stats["api"]["failure_threshold"] == 5
    health = (await client.get("/api/health/tiktok")).json()
    assert health["status"] == "healthy" and health["data"]["configured"] is True

    account = await connect_account(client, alice, sim)
    sim.world.inject("user_info", 500, "internal_error", times=6)
    me = f"{PREFIX}/{account['id']}/me"
    answers = [await client.get(me, headers=alice.headers) for _ in range(3)]
    assert [r.status_code for r in answers] == [503, 503, 503]
    assert answers[-1].json()["error"]["details"]["tiktok_code"] == "circuit_open"
    assert int(answers[-1].headers["retry-after"]) >= 1
    degraded = (await client.get("/api/health/tiktok")).json()
    assert degraded["status"] == "degraded" and degraded["data"]["circuit_breaker"] == "OPEN"
    opened = (await client.get(stats_url, headers=admin.headers)).json()["data"]["api"]
    assert opened["state"] == "OPEN" and opened["times_opened"] == 1 and opened["rejected_calls"]

    reset = await client.post(f"{stats_url}/reset", headers=admin.headers)
    assert reset.json()["data"]["api"]["state"] == "CLOSED"
    assert (await client.get(me, headers=alice.headers)).is_success
    assert (await client.get("/api/health/tiktok")).json()["status"] == "healthy"


async def test_connect_needs_configuration(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    from allin.app import create_app

    app = create_app(make_settings(database_url=database_url))
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:
        user = await signed_in(http, app)
        response = await http.get(f"{PREFIX}/connect", headers=user.headers)
        health = (await http.get("/api/health/tiktok")).json()
    assert response.status_code == 409 and error_code(response) == "TIKTOK_NOT_CONFIGURED"
    assert health["status"] == "healthy" and health["data"]["configured"] is False


async def test_unfinished_publish_is_settled_at_start_up(
    settings: Settings, sim: Sim, videos: dict[str, Path]
) -> None:
    """A crash after TikTok accepted the video: the next start finishes it from the journal."""
    from allin.app import create_app

    first = create_app(settings)
    async with serve(first) as url, httpx.AsyncClient(base_url=url) as http:
        alice = await signed_in(http, first)
        account = await connect_account(http, alice, sim)
        posted = await http.post(
            f"{PREFIX}/{account['id']}/publish",
            headers=alice.headers,
            **video_form(videos["ok"], **PUBLIC),
        )
        record_id = posted.json()["data"]["id"]
    # Nobody polled and no webhook came: the journal still says PROCESSING.
    engine = create_engine(settings.effective_database_url)
    try:
        before = await DbPublishJournal(create_session_factory(engine)).get(record_id)
    finally:
        await engine.dispose()
    assert before is not None and before.state.value == "PROCESSING"
    restarted = create_app(settings)
    async with serve(restarted):
        journal = service_of(restarted).publisher.journal

        async def settled() -> bool:
            current = await journal.get(record_id)
            return current is not None and current.state.value == "COMPLETE"

        await eventually(settled)
