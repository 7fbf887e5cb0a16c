"""The Meta simulator against Facebook Login and Page publishing, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from allin.simulator.social.sniff import jpeg, mp4
from tests.simulator.social.meta_support import (
    APP_ID,
    APP_SECRET,
    IG,
    PAGE,
    USER,
    Sim,
    V,
    error_of,
    login,
    long_token,
    page_token,
    running,
    short_token,
)


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    async for value in running():
        yield value


async def feed_post(sim: Sim, token: str, **params: object) -> httpx.Response:
    return await sim.http.post(f"{V}/{PAGE}/feed", data={"access_token": token, **params})


# --- login and tokens ---


async def test_code_gives_short_token_then_60_day_token(sim: Sim) -> None:
    short = await short_token(sim.http)
    assert short["token_type"] == "bearer" and 3600 <= int(str(short["expires_in"])) <= 7200
    response = await sim.http.get(
        f"{V}/oauth/access_token",
        params={
            "grant_type": "fb_exchange_token",
            "client_id": APP_ID,
            "client_secret": APP_SECRET,
            "fb_exchange_token": short["access_token"],
        },
    )
    assert response.json()["expires_in"] in range(5_183_900, 5_184_001)
    assert "refresh_token" not in response.json()


async def test_code_reuse_and_denied_consent(sim: Sim) -> None:
    code = (await login(sim.http))["code"]
    params = {
        "client_id": APP_ID,
        "client_secret": APP_SECRET,
        "redirect_uri": "http://127.0.0.1:5000/api/social/accounts/facebook/callback",
        "code": code,
    }
    assert (await sim.http.get(f"{V}/oauth/access_token", params=params)).status_code == 200
    again = await sim.http.get(f"{V}/oauth/access_token", params=params)
    assert error_of(again) == (100, 36009)
    denied = await login(sim.http, sim_decision="deny")
    assert denied["error"] == "access_denied" and denied["error_reason"] == "user_denied"


async def test_expired_short_token_cannot_be_exchanged(sim: Sim) -> None:
    short = (await short_token(sim.http))["access_token"]
    sim.clock.advance(7201)
    response = await sim.http.get(
        f"{V}/oauth/access_token",
        params={
            "grant_type": "fb_exchange_token",
            "client_id": APP_ID,
            "client_secret": APP_SECRET,
            "fb_exchange_token": short,
        },
    )
    assert response.status_code == 400 and error_of(response) == (190, 463)
    assert response.json()["error"]["type"] == "OAuthException"
    assert "fbtrace_id" in response.json()["error"]


async def test_me_accounts_gives_non_expiring_page_tokens_and_debug_token(sim: Sim) -> None:
    user = await long_token(sim.http)
    me = await sim.http.get(f"{V}/me", params={"fields": "id,name", "access_token": user})
    assert me.json()["id"] == USER
    accounts = await sim.http.get(
        f"{V}/me/accounts",
        params={
            "fields": "id,name,access_token,tasks,instagram_business_account",
            "access_token": user,
        },
    )
    row = accounts.json()["data"][0]
    assert row["id"] == PAGE and row["instagram_business_account"] == {"id": IG}
    app_token = f"{APP_ID}|{APP_SECRET}"
    debug = await sim.http.get(
        f"{V}/debug_token", params={"input_token": row["access_token"], "access_token": app_token}
    )
    data = debug.json()["data"]
    assert data["type"] == "PAGE" and data["expires_at"] == 0 and data["is_valid"] is True
    assert "pages_manage_posts" in data["scopes"]
    user_debug = (
        await sim.http.get(
            f"{V}/debug_token", params={"input_token": user, "access_token": app_token}
        )
    ).json()["data"]
    assert user_debug["type"] == "USER" and user_debug["expires_at"] > 0


@pytest.mark.parametrize(("event", "subcode"), [("password", 460), ("removed", 458), ("role", 492)])
async def test_invalidation_events_kill_page_tokens(sim: Sim, event: str, subcode: int) -> None:
    token = await page_token(sim.http, await long_token(sim.http))
    if event == "password":
        sim.state.invalidate_user(USER, 460)
    elif event == "removed":
        sim.state.invalidate_user(USER, 458)
    else:
        sim.state.remove_role(USER, PAGE)
    response = await feed_post(sim, token, message="hi")
    assert response.status_code == 400 and error_of(response) == (190, subcode)
    assert "invalid_token" in response.headers["www-authenticate"]


async def test_delete_permissions_revokes(sim: Sim) -> None:
    user = await long_token(sim.http)
    response = await sim.http.delete(f"{V}/me/permissions", params={"access_token": user})
    assert response.json() == {"success": True}
    me = await sim.http.get(f"{V}/me", params={"access_token": user})
    assert error_of(me) == (190, 458)


# --- publishing ---


async def test_feed_post_id_format_and_read_back(sim: Sim) -> None:
    token = await page_token(sim.http, await long_token(sim.http))
    response = await feed_post(sim, token, message="Hello Page")
    post_id = response.json()["id"]
    assert post_id.startswith(f"{PAGE}_") and post_id.split("_")[1].isdigit()
    got = await sim.http.get(
        f"{V}/{post_id}", params={"fields": "id,message,created_time", "access_token": token}
    )
    assert got.json()["message"] == "Hello Page"
    assert got.json()["created_time"].endswith("+0000")
    for edge in ("feed", "published_posts"):
        listed = await sim.http.get(
            f"{V}/{PAGE}/{edge}",
            params={"fields": "id,message,created_time,permalink_url", "access_token": token},
        )
        assert [p["id"] for p in listed.json()["data"]] == [post_id]


async def test_bearer_header_and_json_body_are_accepted(sim: Sim) -> None:
    token = await page_token(sim.http, await long_token(sim.http))
    response = await sim.http.post(
        f"{V}/{PAGE}/feed", json={"message": "json"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200 and "id" in response.json()


async def test_missing_permission_is_200_series(sim: Sim) -> None:
    user = await long_token(sim.http, "pages_show_list,pages_read_engagement")
    token = await page_token(sim.http, user)
    response = await feed_post(sim, token, message="x")
    assert response.status_code == 403 and error_of(response)[0] == 200
    with_user_token = await feed_post(sim, user, message="x")
    assert error_of(with_user_token)[0] == 200


async def test_duplicate_message_is_506(sim: Sim) -> None:
    token = await page_token(sim.http, await long_token(sim.http))
    assert (await feed_post(sim, token, message="same")).status_code == 200
    response = await feed_post(sim, token, message="same")
    assert error_of(response) == (506, None)
    assert response.json()["error"]["message"] == "(#506) Duplicate status message"


async def test_scheduled_post_window_and_visibility(sim: Sim) -> None:
    token = await page_token(sim.http, await long_token(sim.http))
    now = int(sim.clock.now().timestamp())
    too_soon = await feed_post(
        sim, token, message="s", published="false", scheduled_publish_time=str(now + 60)
    )
    assert error_of(too_soon)[0] == 100
    not_unpublished = await feed_post(
        sim, token, message="s", scheduled_publish_time=str(now + 3600)
    )
    assert error_of(not_unpublished)[0] == 100
    ok = await feed_post(
        sim, token, message="s", published="false", scheduled_publish_time=str(now + 3600)
    )
    post_id = ok.json()["id"]
    feed = await sim.http.get(f"{V}/{PAGE}/feed", params={"access_token": token})
    assert feed.json()["data"] == []
    scheduled = await sim.http.get(f"{V}/{PAGE}/scheduled_posts", params={"access_token": token})
    assert [p["id"] for p in scheduled.json()["data"]] == [post_id]
    sim.clock.advance(3601)
    feed = await sim.http.get(f"{V}/{PAGE}/feed", params={"access_token": token})
    assert [p["id"] for p in feed.json()["data"]] == [post_id]


async def test_photo_with_post_id_and_multi_photo_post(sim: Sim) -> None:
    token = await page_token(sim.http, await long_token(sim.http))
    sim.state.media_library["https://cdn.example/a.jpg"] = jpeg(1080, 1080)
    one = await sim.http.post(
        f"{V}/{PAGE}/photos",
        data={"access_token": token, "url": "https://cdn.example/a.jpg", "caption": "pic"},
    )
    assert one.json()["post_id"].startswith(f"{PAGE}_") and one.json()["id"].isdigit()
    staged = []
    for _ in range(2):
        response = await sim.http.post(
            f"{V}/{PAGE}/photos",
            data={"access_token": token, "published": "false"},
            files={"source": jpeg(10, 10)},
        )
        assert "post_id" not in response.json()
        staged.append(response.json()["id"])
    attached = json.dumps([{"media_fbid": i} for i in staged])
    multi = await feed_post(sim, token, message="two", attached_media=attached)
    assert multi.status_code == 200
    reuse = await feed_post(sim, token, message="again", attached_media=attached)
    assert error_of(reuse)[0] == 100
    broken = await sim.http.post(
        f"{V}/{PAGE}/photos", data={"access_token": token, "url": "https://cdn.example/missing.jpg"}
    )
    assert error_of(broken)[0] == 324


async def test_video_is_processed_asynchronously_with_delayed_post_id(sim: Sim) -> None:
    token = await page_token(sim.http, await long_token(sim.http))
    response = await sim.http.post(
        f"{V}/{PAGE}/videos",
        data={"access_token": token, "title": "t", "description": "clip"},
        files={"source": mp4()},
    )
    video_id = response.json()["id"]
    params = {"fields": "post_id,permalink_url,status", "access_token": token}
    early = (await sim.http.get(f"{V}/{video_id}", params=params)).json()
    assert early["status"]["video_status"] == "processing" and "post_id" not in early
    sim.clock.advance(3)
    ready = (await sim.http.get(f"{V}/{video_id}", params=params)).json()
    assert ready["status"]["video_status"] == "ready" and ready["post_id"].startswith(PAGE)


# --- rate limiting and faults ---


async def test_usage_headers_rise_and_limits_answer_with_codes() -> None:
    async for sim in running(app_calls_per_hour=3, buc_calls_per_day=2):
        user = await long_token(sim.http)
        first = await sim.http.get(f"{V}/me", params={"access_token": user})
        usage = json.loads(first.headers["x-app-usage"])
        second = await sim.http.get(f"{V}/me", params={"access_token": user})
        assert json.loads(second.headers["x-app-usage"])["call_count"] > usage["call_count"]
        await sim.http.get(f"{V}/me/accounts", params={"access_token": user})
        over = await sim.http.get(f"{V}/me", params={"access_token": user})
        assert error_of(over)[0] == 17 and "x-app-usage" in over.headers
        assert over.json()["error"]["is_transient"] is True
        token = sim.state.page_token(sim.state.tokens[user], PAGE).value
        for _ in range(2):
            assert (await feed_post(sim, token, message=f"m{_}")).status_code == 200
        page_over = await feed_post(sim, token, message="m3")
        assert error_of(page_over)[0] == 80001
        buc = json.loads(page_over.headers["x-business-use-case-usage"])
        assert buc[PAGE][0]["type"] == "pages"
        assert buc[PAGE][0]["estimated_time_to_regain_access"] > 0


async def test_server_error_slow_and_phantom_error(sim: Sim) -> None:
    token = await page_token(sim.http, await long_token(sim.http))
    sim.state.faults.inject("page.feed", "error", status=500)
    failed = await feed_post(sim, token, message="a")
    assert failed.status_code == 500 and failed.json()["error"]["is_transient"] is True
    assert not sim.state.posts
    sim.state.faults.inject("page.feed", "slow", delay=0.3)
    with pytest.raises(httpx.ReadTimeout):
        await sim.http.post(
            f"{V}/{PAGE}/feed", data={"access_token": token, "message": "s"}, timeout=0.05
        )
    sim.state.faults.inject("page.feed", "phantom_error")
    phantom = await feed_post(sim, token, message="it landed")
    assert phantom.status_code == 400 and error_of(phantom)[0] == 1
    listed = await sim.http.get(f"{V}/{PAGE}/published_posts", params={"access_token": token})
    assert "it landed" in [p.get("message") for p in listed.json()["data"]]


async def test_lost_response_records_the_post(sim: Sim) -> None:
    token = await page_token(sim.http, await long_token(sim.http))
    sim.state.faults.inject("page.feed", "lost_response", delay=0.5)
    with pytest.raises(httpx.ReadTimeout):
        await sim.http.post(
            f"{V}/{PAGE}/feed", data={"access_token": token, "message": "l"}, timeout=0.1
        )
    assert [p.message for p in sim.state.posts.values()] == ["l"]


async def test_unknown_object_and_old_version(sim: Sim) -> None:
    token = await page_token(sim.http, await long_token(sim.http))
    missing = await sim.http.get(f"{V}/999", params={"access_token": token})
    assert error_of(missing) == (100, 33)
    old = await sim.http.get("/v2.0/me", params={"access_token": token})
    assert error_of(old)[0] == 2635
