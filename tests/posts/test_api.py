"""The posts API end to end: the app serving over loopback HTTP, its embedded dispatcher
publishing to the loopback platform, authorization on every object."""

from __future__ import annotations

import asyncio
import struct
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from allin.app import create_app
from allin.auth.models import Role
from allin.core.config import Settings
from allin.core.domain import app_state
from allin.posts.ports import PublishingAccounts
from allin.social.providers.base import Platform
from tests.auth.helpers import SignedIn, signed_in
from tests.posts.platform import PlatformState
from tests.posts.provider import LoopbackAccounts, LoopbackProvider
from tests.support.server import serve


@dataclass
class World:
    http: httpx.AsyncClient
    accounts: LoopbackAccounts
    platform: PlatformState
    alice: SignedIn
    bob: SignedIn
    admin: SignedIn


@pytest.fixture
async def world(
    make_settings: Callable[..., Settings],
    database_url: str,
    platform: tuple[PlatformState, str],
) -> AsyncIterator[World]:
    state, url = platform
    settings = make_settings(
        database_url=database_url, rate_limit_enabled=False, posts_poll_interval=0.1
    )
    app = create_app(settings)
    provider = LoopbackProvider(url)
    accounts = LoopbackAccounts(provider)
    app_state(app).provide(accounts, PublishingAccounts)  # type: ignore[type-abstract]
    async with serve(app) as base, httpx.AsyncClient(base_url=base, timeout=10) as http:
        alice = await signed_in(http, app)
        bob = await signed_in(http, app)
        admin = await signed_in(http, app, role=Role.ADMIN)
        yield World(http, accounts, state, alice, bob, admin)
    await provider.aclose()


async def _post(world: World, user: SignedIn, path: str, body: Any) -> httpx.Response:
    return await world.http.post(path, json=body, headers=user.headers)


async def _until(
    world: World, user: SignedIn, post_id: str, done: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    for _ in range(100):
        body = (await world.http.get(f"/api/posts/{post_id}", headers=user.headers)).json()
        if done(body["data"]):
            return body["data"]  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError(f"post never reached the state: {body}")


async def test_publish_now_goes_out_once_and_shows_the_platform_link(world: World) -> None:
    account = world.accounts.add(world.alice.user_id)
    response = await _post(
        world,
        world.alice,
        "/api/posts",
        {"content": "Hello", "account_ids": [str(account)], "schedule": {"mode": "now"}},
    )
    assert response.status_code == 201, response.text
    post = response.json()["data"]
    done = await _until(
        world, world.alice, post["id"], lambda p: p["targets"][0]["status"] == "PUBLISHED"
    )
    (target,) = done["targets"]
    assert target["platform_post_id"] == world.platform.posts[0]["id"]
    assert target["platform_url"].startswith("https://platform.test/p/")
    assert len(world.platform.posts) == 1


async def test_other_users_never_see_or_use_each_others_posts_and_accounts(world: World) -> None:
    account = world.accounts.add(world.alice.user_id)
    created = await _post(
        world, world.alice, "/api/posts", {"content": "mine", "account_ids": [str(account)]}
    )
    post_id = created.json()["data"]["id"]
    for method, path in [
        ("GET", f"/api/posts/{post_id}"),
        ("POST", f"/api/posts/{post_id}/retry"),
        ("POST", f"/api/posts/{post_id}/cancel"),
        ("DELETE", f"/api/posts/{post_id}"),
    ]:
        response = await world.http.request(method, path, headers=world.bob.headers)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "POST_001"
    stolen = await _post(
        world, world.bob, "/api/posts", {"content": "x", "account_ids": [str(account)]}
    )
    assert stolen.status_code == 404
    assert stolen.json()["error"]["code"] == "POST_003"
    assert (await world.http.get("/api/posts")).status_code == 401
    status = await world.http.get("/api/admin/queue/status", headers=world.alice.headers)
    assert status.status_code == 403


async def test_validate_answers_per_target_the_length_the_limit_and_each_problem(
    world: World,
) -> None:
    x = world.accounts.add(world.alice.user_id, Platform.X)
    text = "a" * 270 + " https://example.com/" + "b" * 100
    response = await _post(
        world,
        world.alice,
        "/api/posts/validate",
        {"content": text, "account_ids": [str(x)], "platforms": ["linkedin", "instagram"]},
    )
    assert response.status_code == 200, response.text
    verdicts = {v["platform"]: v for v in response.json()["data"]}
    assert verdicts["x"]["length"] == 270 + 1 + 23
    assert verdicts["x"]["limit"] == 280
    assert [p["code"] for p in verdicts["x"]["problems"]] == ["CONTENT_001"]
    assert "280" in verdicts["x"]["problems"][0]["message"]
    assert verdicts["linkedin"]["ok"] is True
    assert [p["code"] for p in verdicts["instagram"]["problems"]] == ["CONTENT_005"]
    refused = await _post(
        world,
        world.alice,
        "/api/posts",
        {"content": text, "account_ids": [str(x)], "schedule": {"mode": "now"}},
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "CONTENT_001"


async def test_local_times_that_do_not_exist_or_repeat_are_refused_or_chosen(
    world: World,
) -> None:
    account = world.accounts.add(world.alice.user_id)
    body: dict[str, Any] = {
        "content": "dst",
        "account_ids": [str(account)],
        "timezone": "Europe/Berlin",
        "schedule": {"mode": "at", "local_time": "2030-03-31T02:30:00"},
    }
    gap = await _post(world, world.alice, "/api/posts", body)
    assert gap.status_code == 422 and gap.json()["error"]["code"] == "SCHEDULE_002"
    body["schedule"]["local_time"] = "2030-10-27T02:30:00"
    fold = await _post(world, world.alice, "/api/posts", body)
    assert fold.status_code == 422 and fold.json()["error"]["code"] == "SCHEDULE_003"
    body["schedule"]["fold"] = 1
    chosen = await _post(world, world.alice, "/api/posts", body)
    assert chosen.status_code == 201, chosen.text
    (target,) = chosen.json()["data"]["targets"]
    assert target["scheduled_at"].startswith("2030-10-27T01:30:00")  # CET, the second 02:30
    assert target["scheduled_local"].startswith("2030-10-27T02:30:00+01:00")
    body["timezone"] = "Mars/Olympus"
    assert (await _post(world, world.alice, "/api/posts", body)).json()["error"][
        "code"
    ] == "SCHEDULE_001"


async def test_add_to_queue_takes_the_next_free_weekly_slot(world: World) -> None:
    account = world.accounts.add(world.alice.user_id)
    slots = await world.http.put(
        f"/api/posts/slots/{account}",
        json={"timezone": "Pacific/Kiritimati", "slots": [{"weekday": 0, "time": "09:00"}]},
        headers=world.alice.headers,
    )
    assert slots.status_code == 200, slots.text
    body = {"content": "q", "account_ids": [str(account)], "schedule": {"mode": "queue"}}
    first = (await _post(world, world.alice, "/api/posts", body)).json()["data"]["targets"][0]
    second = (await _post(world, world.alice, "/api/posts", body)).json()["data"]["targets"][0]
    assert first["scheduled_at"] < second["scheduled_at"]
    # 09:00 on a Monday at UTC+14 is 19:00 UTC on the Sunday before.
    for target in (first, second):
        assert (
            target["scheduled_at"].endswith("T19:00:00Z") or "T19:00:00" in target["scheduled_at"]
        )


async def test_calendar_and_ical_feed_show_the_schedule(world: World) -> None:
    account = world.accounts.add(world.alice.user_id)
    body = {
        "content": "Launch, today; really",
        "account_ids": [str(account)],
        "timezone": "America/New_York",
        "schedule": {"mode": "at", "local_time": "2030-03-10T03:30:00"},  # after the gap
    }
    created = await _post(world, world.alice, "/api/posts", body)
    assert created.status_code == 201, created.text
    calendar = await world.http.get(
        "/api/calendar",
        params={"from": "2030-03-01T00:00:00Z", "to": "2030-04-01T00:00:00Z", "tz": "Asia/Tokyo"},
        headers=world.alice.headers,
    )
    (entry,) = calendar.json()["data"]
    assert entry["scheduled_at"].startswith("2030-03-10T07:30:00")  # EDT, UTC-4
    assert entry["local_time"].startswith("2030-03-10T16:30:00+09:00")
    feed = await _post(world, world.alice, "/api/calendar/feed", None)
    url = feed.json()["data"]["url"]
    ics = await world.http.get(httpx.URL(url).path)
    assert ics.status_code == 200
    assert ics.headers["content-type"].startswith("text/calendar")
    assert "DTSTART:20300310T073000Z\r\n" in ics.text
    assert "Launch\\, today\\; really" in ics.text
    # The event links to the post's page, one the dashboard serves.
    (link,) = [line[4:] for line in ics.text.split("\r\n") if line.startswith("URL:")]
    assert httpx.URL(link).path == f"/app/posts/{created.json()['data']['id']}"
    page = await world.http.get(httpx.URL(link).path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert (await world.http.get("/api/calendar/feed/wrong.ics")).status_code == 404


async def test_csv_export_and_import_round_trip(world: World) -> None:
    account = world.accounts.add(world.alice.user_id)
    await _post(
        world,
        world.alice,
        "/api/posts",
        {
            "content": "=cmd, with comma",
            "account_ids": [str(account)],
            "timezone": "Europe/Berlin",
            "schedule": {"mode": "at", "local_time": "2031-01-05T10:00:00"},
        },
    )
    exported = await world.http.get("/api/posts/export.csv", headers=world.alice.headers)
    assert exported.status_code == 200
    assert "'=cmd, with comma" in exported.text  # no formula for spreadsheets
    assert "2031-01-05T10:00:00" in exported.text
    imported = await world.http.post(
        "/api/posts/import",
        content=exported.text.replace("'=cmd", "imported"),
        headers=world.alice.headers,
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["data"]["created"] == 1
    bad = await world.http.post(
        "/api/posts/import",
        content="content,account_ids\nx,not-a-uuid\n",
        headers=world.alice.headers,
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "POST_004"


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


async def test_media_is_typed_from_bytes_probed_owned_and_kept_while_used(world: World) -> None:
    upload = await world.http.post(
        "/api/media",
        params={"filename": "photo.jpg"},  # the name lies; the bytes say PNG
        content=_png(40, 20),
        headers=world.alice.headers,
    )
    assert upload.status_code == 201, upload.text
    media = upload.json()["data"]
    assert (media["mime_type"], media["width"], media["height"]) == ("image/png", 40, 20)
    refused = await world.http.post(
        "/api/media", content=b"#!/bin/sh\necho hi\n" * 4, headers=world.alice.headers
    )
    assert refused.status_code == 415 and refused.json()["error"]["code"] == "MEDIA_002"
    path = f"/api/media/{media['id']}/file"
    assert (await world.http.get(path, headers=world.bob.headers)).status_code == 404
    served = await world.http.get(path, headers=world.alice.headers)
    assert served.content == _png(40, 20)
    account = world.accounts.add(world.alice.user_id)
    await _post(
        world,
        world.alice,
        "/api/posts",
        {"content": "pic", "account_ids": [str(account)], "media_ids": [media["id"]]},
    )
    in_use = await world.http.delete(f"/api/media/{media['id']}", headers=world.alice.headers)
    assert in_use.status_code == 409


async def test_failures_notify_and_admins_see_the_queue(world: World) -> None:
    account = world.accounts.add(world.alice.user_id)
    world.platform.fail_with = (422, {"message": "Duplicate post"})
    created = await _post(
        world,
        world.alice,
        "/api/posts",
        {"content": "dup", "account_ids": [str(account)], "schedule": {"mode": "now"}},
    )
    post_id = created.json()["data"]["id"]
    failed = await _until(
        world, world.alice, post_id, lambda p: p["targets"][0]["status"] == "FAILED"
    )
    assert failed["targets"][0]["last_error"] == "Duplicate post"
    assert failed["targets"][0]["last_error_code"] == "CONTENT_003"
    notes = await world.http.get("/api/notifications", headers=world.alice.headers)
    assert [n["post_id"] for n in notes.json()["data"]] == [post_id]
    status = await world.http.get("/api/admin/queue/status", headers=world.admin.headers)
    data = status.json()["data"]
    assert data["counts"]["FAILED"] == 1
    assert any(w["alive"] for w in data["workers"])
    world.platform.fail_with = None
    retried = await _post(world, world.alice, f"/api/posts/{post_id}/retry", None)
    assert retried.status_code == 200
    await _until(world, world.alice, post_id, lambda p: p["targets"][0]["status"] == "PUBLISHED")
    assert len(world.platform.posts) == 1


async def test_mail_on_failure_reads_back_per_user_and_refuses_bad_values(world: World) -> None:
    path = "/api/posts/preferences/email"
    alice, bob = world.alice.headers, world.bob.headers
    assert (await world.http.get(path, headers=alice)).json()["data"] is True  # on by default
    off = await world.http.put(path, params={"enabled": "false"}, headers=alice)
    assert off.status_code == 200 and off.json()["data"] is False
    assert (await world.http.get(path, headers=alice)).json()["data"] is False
    assert (await world.http.get(path, headers=bob)).json()["data"] is True
    on = await world.http.put(path, params={"enabled": "true"}, headers=alice)
    assert on.json()["data"] is True
    assert (await world.http.get(path, headers=alice)).json()["data"] is True
    bad = await world.http.put(path, params={"enabled": "sometimes"}, headers=alice)
    assert bad.status_code == 422 and bad.json()["success"] is False
    assert (await world.http.get(path)).status_code == 401


async def test_calendar_feed_state_says_whether_a_secret_url_exists(world: World) -> None:
    path = "/api/calendar/feed"
    assert (await world.http.get(path, headers=world.alice.headers)).json()["data"] == {
        "active": False
    }
    first = (await _post(world, world.alice, path, None)).json()["data"]["url"]
    assert (await world.http.get(path, headers=world.alice.headers)).json()["data"]["active"]
    assert not (await world.http.get(path, headers=world.bob.headers)).json()["data"]["active"]
    second = (await _post(world, world.alice, path, None)).json()["data"]["url"]
    assert first != second
    assert (await world.http.get(httpx.URL(first).path)).status_code == 404  # revoked
    assert (await world.http.get(httpx.URL(second).path)).status_code == 200


async def test_unread_count_counts_the_owners_unread_notifications(world: World) -> None:
    path = "/api/notifications/unread-count"
    assert (await world.http.get(path, headers=world.alice.headers)).json()["data"] == {"unread": 0}
    account = world.accounts.add(world.alice.user_id)
    world.platform.fail_with = (422, {"message": "Duplicate post"})
    for text in ("one", "two"):
        created = await _post(
            world,
            world.alice,
            "/api/posts",
            {"content": text, "account_ids": [str(account)], "schedule": {"mode": "now"}},
        )
        post_id = created.json()["data"]["id"]
        await _until(world, world.alice, post_id, lambda p: p["targets"][0]["status"] == "FAILED")
    count = await world.http.get(path, headers=world.alice.headers)
    assert count.json()["data"] == {"unread": 2}
    assert (await world.http.get(path, headers=world.bob.headers)).json()["data"]["unread"] == 0
    notes = (await world.http.get("/api/notifications", headers=world.alice.headers)).json()
    first = notes["data"][0]["id"]
    stolen = await _post(world, world.bob, f"/api/notifications/{first}/read", None)
    assert stolen.status_code == 404
    assert (await world.http.get(path, headers=world.alice.headers)).json()["data"]["unread"] == 2
    await _post(world, world.alice, f"/api/notifications/{first}/read", None)
    await _post(world, world.alice, f"/api/notifications/{first}/read", None)  # idempotent
    assert (await world.http.get(path, headers=world.alice.headers)).json()["data"]["unread"] == 1
    assert (await world.http.get(path)).status_code == 401
    assert (await _post(world, world.bob, "/api/notifications/read-all", None)).json()["data"] == {
        "marked": 0
    }
    assert (await world.http.get(path, headers=world.alice.headers)).json()["data"]["unread"] == 1
    marked = await _post(world, world.alice, "/api/notifications/read-all", None)
    assert marked.status_code == 200 and marked.json()["data"] == {"marked": 1}
    assert (await world.http.get(path, headers=world.alice.headers)).json()["data"]["unread"] == 0
    notes = (await world.http.get("/api/notifications", headers=world.alice.headers)).json()
    assert all(n["read_at"] for n in notes["data"])
    assert (await world.http.post("/api/notifications/read-all")).status_code == 401


async def test_a_rate_limit_shows_its_end_on_the_post_and_in_the_queue_status(
    world: World,
) -> None:
    account = world.accounts.add(world.alice.user_id)
    world.platform.fail_with = (429, {"message": "slow down"})  # Retry-After: 120
    created = await _post(
        world,
        world.alice,
        "/api/posts",
        {"content": "later", "account_ids": [str(account)], "schedule": {"mode": "now"}},
    )
    post_id = created.json()["data"]["id"]
    held = await _until(
        world, world.alice, post_id, lambda p: p["targets"][0]["last_error_code"] == "SOCIAL_003"
    )
    (target,) = held["targets"]
    assert target["status"] == "SCHEDULED"
    assert target["rate_limited_until"] == target["next_attempt_at"]
    until = datetime.fromisoformat(target["rate_limited_until"])
    assert 100 <= (until - datetime.now(UTC)).total_seconds() <= 121
    assert until.isoformat()[:16] in target["last_error"]
    status = await world.http.get("/api/admin/queue/status", headers=world.admin.headers)
    windows = status.json()["data"]["rate_windows"]
    assert [(w["scope"], w["platform"], w["key"]) for w in windows] == [
        ("account", "linkedin", str(account))
    ]
    assert datetime.fromisoformat(windows[0]["until"]) == until
    assert windows[0]["reason"] == "slow down"
    assert len(world.platform.posts) == 0
