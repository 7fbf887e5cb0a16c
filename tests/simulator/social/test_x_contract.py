"""The X simulator against the X API v2 contract, item by item, over real HTTP on loopback."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from allin.simulator.social.common import ManualClock
from allin.simulator.social.sniff import mp4, png
from allin.simulator.social.x import XConfig, XState, XUser, create_x_simulator
from tests.support.server import serve

CLIENT, SECRET = "sim-x-client-id", "sim-x-client-secret"
REDIRECT = "http://127.0.0.1:5000/api/social/accounts/x/callback"
VERIFIER = "x" * 64
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=")
BASIC = {"Authorization": "Basic " + base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()}
ALL = "tweet.read tweet.write users.read media.write offline.access"


@dataclass
class Sim:
    http: httpx.AsyncClient
    state: XState
    clock: ManualClock


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    clock = ManualClock()
    users = [XUser("2244994945", "creator", "Creator"), XUser("783214", "other", "Other")]
    app = create_x_simulator(XConfig(clock=clock, users=users))
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:
        yield Sim(http, app.state.sim, clock)


def query_of(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


async def authorize(http: httpx.AsyncClient, scope: str = ALL, **extra: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": CLIENT,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "st",
        "code_challenge": CHALLENGE.decode(),
        "code_challenge_method": "S256",
        **extra,
    }
    return query_of(await http.get("/i/oauth2/authorize", params=params))


async def exchange(http: httpx.AsyncClient, code: str, verifier: str = VERIFIER) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    return await http.post("/2/oauth2/token", data=form, headers=BASIC)


async def token(http: httpx.AsyncClient, scope: str = ALL, user: str = "creator") -> dict[str, str]:
    response = await exchange(http, (await authorize(http, scope, sim_user=user))["code"])
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def bearer(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}"}


async def post(http: httpx.AsyncClient, access: str, **body: object) -> httpx.Response:
    return await http.post("/2/tweets", json=body, headers=bearer(access))


# --- OAuth 2.0 with PKCE ---


async def test_code_exchange_gives_bearer_token_with_refresh_only_for_offline_access(
    sim: Sim,
) -> None:
    body = await token(sim.http)
    assert body["token_type"] == "bearer" and body["expires_in"] == 7200
    assert set(body["scope"].split(" ")) == set(ALL.split(" ")) and body["refresh_token"]
    without = await token(sim.http, "tweet.read users.read")
    assert "refresh_token" not in without


async def test_both_authorize_urls_redirect_with_state_and_code(sim: Sim) -> None:
    params = {
        "response_type": "code",
        "client_id": CLIENT,
        "redirect_uri": REDIRECT,
        "scope": "users.read",
        "state": "abc",
        "code_challenge": "c" * 43,
        "code_challenge_method": "plain",
    }
    for path in ("/i/oauth2/authorize", "/2/oauth2/authorize"):
        query = query_of(await sim.http.get(path, params=params))
        assert query["state"] == "abc" and query["code"]


async def test_consent_can_be_denied(sim: Sim) -> None:
    assert (await authorize(sim.http, sim_decision="deny"))["error"] == "access_denied"
    sim.state.deny_consent = True
    assert (await authorize(sim.http))["error"] == "access_denied"


async def test_unregistered_redirect_is_never_followed(sim: Sim) -> None:
    response = await sim.http.get(
        "/i/oauth2/authorize",
        params={
            "client_id": CLIENT,
            "redirect_uri": "https://evil.example/cb",
            "response_type": "code",
        },
    )
    assert response.status_code == 400 and "location" not in response.headers


async def test_pkce_s256_is_verified(sim: Sim) -> None:
    code = (await authorize(sim.http))["code"]
    response = await exchange(sim.http, code, verifier="y" * 64)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "Value passed for the authorization code was invalid.",
    }


async def test_code_is_single_use_and_lives_30_seconds(sim: Sim) -> None:
    code = (await authorize(sim.http))["code"]
    assert (await exchange(sim.http, code)).status_code == 200
    assert (await exchange(sim.http, code)).status_code == 400
    late = (await authorize(sim.http))["code"]
    sim.clock.advance(31)
    assert (await exchange(sim.http, late)).json()["error"] == "invalid_request"


async def test_confidential_client_needs_basic_auth(sim: Sim) -> None:
    code = (await authorize(sim.http))["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
        "client_id": CLIENT,
    }
    response = await sim.http.post("/2/oauth2/token", data=form)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized_client"


async def test_public_client_sends_client_id_in_body() -> None:
    app = create_x_simulator(XConfig(client_secret=None))
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:
        code = (await authorize(http))["code"]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER,
            "client_id": CLIENT,
        }
        response = await http.post("/2/oauth2/token", data=form)
        assert response.status_code == 200, response.text


async def test_refresh_rotates_and_a_spent_token_is_refused_and_kills_the_family(
    sim: Sim,
) -> None:
    first = await token(sim.http)
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    second = (await sim.http.post("/2/oauth2/token", data=form, headers=BASIC)).json()
    assert second["refresh_token"] != first["refresh_token"]
    reuse = await sim.http.post("/2/oauth2/token", data=form, headers=BASIC)
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_request"
    me = await sim.http.get("/2/users/me", headers=bearer(second["access_token"]))
    assert me.status_code == 401  # the whole family was revoked


async def test_access_token_dies_after_7200_seconds(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    assert (await sim.http.get("/2/users/me", headers=bearer(access))).status_code == 200
    sim.clock.advance(7200)
    response = await sim.http.get("/2/users/me", headers=bearer(access))
    assert response.status_code == 401
    assert response.json() == {
        "title": "Unauthorized",
        "type": "about:blank",
        "status": 401,
        "detail": "Unauthorized",
    }


async def test_revoke_kills_access_and_refresh(sim: Sim) -> None:
    pair = await token(sim.http)
    response = await sim.http.post(
        "/2/oauth2/revoke", data={"token": pair["access_token"]}, headers=BASIC
    )
    assert response.json() == {"revoked": True}
    assert (
        await sim.http.get("/2/users/me", headers=bearer(pair["access_token"]))
    ).status_code == 401
    form = {"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]}
    assert (await sim.http.post("/2/oauth2/token", data=form, headers=BASIC)).status_code == 400


# --- who am I, scopes ---


async def test_users_me_with_fields_and_rate_headers(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    response = await sim.http.get(
        "/2/users/me", params={"user.fields": "created_at,verified"}, headers=bearer(access)
    )
    data = response.json()["data"]
    assert data["id"] == "2244994945" and data["username"] == "creator"
    assert {"created_at", "verified"} <= set(data)
    assert response.headers["x-rate-limit-limit"] == "75"
    assert response.headers["x-rate-limit-remaining"] == "74"
    assert int(response.headers["x-rate-limit-reset"]) > 0


async def test_missing_scopes_are_403(sim: Sim) -> None:
    access = (await token(sim.http, "tweet.read users.read"))["access_token"]
    assert (await post(sim.http, access, text="hi")).status_code == 403
    upload = await sim.http.post(
        "/2/media/upload/initialize",
        headers=bearer(access),
        json={"media_type": "video/mp4", "total_bytes": 10},
    )
    assert upload.status_code == 403


async def test_app_only_bearer_is_unsupported_authentication(sim: Sim) -> None:
    response = await sim.http.get("/2/users/me", headers=bearer("sim-x-app-bearer"))
    assert response.status_code == 403
    body = response.json()
    assert body["title"] == "Unsupported Authentication"
    assert body["type"].endswith("/2/problems/unsupported-authentication")


# --- POST /2/tweets ---


async def test_create_returns_201_with_numeric_id_and_read_back(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    response = await post(sim.http, access, text="hello world")
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["text"] == "hello world" and data["id"].isdigit() and len(data["id"]) <= 19
    assert data["edit_history_post_ids"] == [data["id"]]
    for name in (
        "x-user-limit-24hour-limit",
        "x-app-limit-24hour-remaining",
        "x-rate-limit-remaining",
    ):
        assert name in response.headers
    got = await sim.http.get(
        f"/2/tweets/{data['id']}", params={"tweet.fields": "created_at"}, headers=bearer(access)
    )
    assert got.json()["data"]["text"] == "hello world" and "created_at" in got.json()["data"]
    listed = await sim.http.get(
        "/2/users/2244994945/tweets",
        headers=bearer(access),
        params={"max_results": "5", "exclude": "replies,retweets"},
    )
    assert [t["id"] for t in listed.json()["data"]] == [data["id"]]
    assert listed.json()["meta"]["result_count"] == 1


async def test_unknown_tweet_is_a_200_partial_error(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    response = await sim.http.get("/2/tweets/123", headers=bearer(access))
    assert response.status_code == 200
    assert response.json()["errors"][0]["type"].endswith("/2/problems/resource-not-found")


@pytest.mark.parametrize(
    "body",
    [
        {"text": "x", "bogus": 1},
        {"text": "x", "media": {"media_ids": ["1", "2", "3", "4", "5"]}},
        {"text": "a" * 281},
        {"text": "x", "poll": {"options": ["only one"], "duration_minutes": 60}},
        {},
    ],
)
async def test_invalid_requests_are_400(sim: Sim, body: dict[str, object]) -> None:
    access = (await token(sim.http))["access_token"]
    response = await post(sim.http, access, **body)
    assert response.status_code == 400, response.text
    assert response.json()["type"].endswith("/2/problems/invalid-request")


async def test_weighted_length_counts_urls_as_23_and_cjk_as_2(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    url = "https://example.com/" + "a" * 200
    assert (await post(sim.http, access, text=url + " " + "b" * 256)).status_code == 201
    assert (await post(sim.http, access, text="漢" * 140)).status_code == 201
    assert (await post(sim.http, access, text="字" * 141)).status_code == 400


async def test_premium_accounts_post_long_text() -> None:
    users = [XUser("1", "premium", "Premium", premium=True)]
    app = create_x_simulator(XConfig(users=users))
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:
        access = (await token(http, user="premium"))["access_token"]
        assert (await post(http, access, text="a" * 5000)).status_code == 201


async def test_more_than_one_cashtag_is_refused(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    assert (await post(sim.http, access, text="$AAPL and $TSLA")).status_code == 403
    assert (await post(sim.http, access, text="only $AAPL")).status_code == 201


async def test_duplicate_text_is_403_within_the_window(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    assert (await post(sim.http, access, text="same")).status_code == 201
    response = await post(sim.http, access, text="same")
    assert response.status_code == 403
    assert response.json() == {
        "detail": "You are not allowed to create a Tweet with duplicate content.",
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
    }
    sim.clock.advance(86_401)
    access = (await token(sim.http))["access_token"]
    assert (await post(sim.http, access, text="same")).status_code == 201


async def test_replies_need_a_real_target_and_a_summons(sim: Sim) -> None:
    mine = (await token(sim.http))["access_token"]
    other = (await token(sim.http, user="other"))["access_token"]
    bad = await post(sim.http, mine, text="r", reply={"in_reply_to_tweet_id": "999"})
    assert bad.status_code == 403
    plain = (await post(sim.http, mine, text="a post")).json()["data"]["id"]
    summons = (await post(sim.http, mine, text="hey @other")).json()["data"]["id"]
    refused = await post(sim.http, other, text="reply", reply={"in_reply_to_tweet_id": plain})
    assert refused.status_code == 403
    ok = await post(sim.http, other, text="reply", reply={"in_reply_to_tweet_id": summons})
    assert ok.status_code == 201
    thread = await post(sim.http, mine, text="more", reply={"in_reply_to_tweet_id": plain})
    assert thread.status_code == 201


# --- media ---


async def upload_video(sim: Sim, access: str, size: int = 3000) -> str:
    data = mp4(size)
    init = await sim.http.post(
        "/2/media/upload/initialize",
        headers=bearer(access),
        json={"media_type": "video/mp4", "total_bytes": size, "media_category": "tweet_video"},
    )
    assert init.status_code == 200, init.text
    media_id = init.json()["data"]["id"]
    assert init.json()["data"]["media_key"] == f"7_{media_id}"
    for index, start in enumerate(range(0, size, 1000)):
        response = await sim.http.post(
            f"/2/media/upload/{media_id}/append",
            headers=bearer(access),
            data={"segment_index": str(index)},
            files={"media": data[start : start + 1000]},
        )
        assert response.status_code == 200 and "expires_at" in response.json()["data"]
    return str(media_id)


async def test_chunked_video_goes_pending_in_progress_succeeded(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    media_id = await upload_video(sim, access)
    final = await sim.http.post(f"/2/media/upload/{media_id}/finalize", headers=bearer(access))
    info = final.json()["data"]["processing_info"]
    assert info["state"] == "pending" and info["check_after_secs"] >= 1
    early = await post(sim.http, access, text="v", media={"media_ids": [media_id]})
    assert early.status_code == 400  # unfinished media is refused
    sim.clock.advance(1.5)
    params = {"command": "STATUS", "media_id": media_id}
    status = await sim.http.get("/2/media/upload", params=params, headers=bearer(access))
    assert status.json()["data"]["processing_info"]["state"] == "in_progress"
    sim.clock.advance(2)
    status = await sim.http.get("/2/media/upload", params=params, headers=bearer(access))
    assert status.json()["data"]["processing_info"]["state"] == "succeeded"
    done = await post(sim.http, access, text="v", media={"media_ids": [media_id]})
    assert done.status_code == 201


async def test_failed_processing_and_size_mismatch(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    sim.state.fail_next_media = 1
    media_id = await upload_video(sim, access)
    await sim.http.post(f"/2/media/upload/{media_id}/finalize", headers=bearer(access))
    sim.clock.advance(10)
    status = await sim.http.get(
        "/2/media/upload",
        headers=bearer(access),
        params={"command": "STATUS", "media_id": media_id},
    )
    assert status.json()["data"]["processing_info"]["state"] == "failed"
    init = await sim.http.post(
        "/2/media/upload/initialize",
        headers=bearer(access),
        json={"media_type": "video/mp4", "total_bytes": 5000, "media_category": "tweet_video"},
    )
    short = init.json()["data"]["id"]
    response = await sim.http.post(f"/2/media/upload/{short}/finalize", headers=bearer(access))
    assert response.status_code == 400


async def test_one_shot_image_upload_and_expiry(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    response = await sim.http.post(
        "/2/media/upload",
        headers=bearer(access),
        data={"media_category": "tweet_image"},
        files={"media": png(640, 480)},
    )
    data = response.json()["data"]
    assert data["image"] == {"image_type": "image/png", "w": 640, "h": 480}
    assert "processing_info" not in data and data["expires_after_secs"] == 86_400
    sim.clock.advance(86_401)
    access = (await token(sim.http))["access_token"]
    late = await post(sim.http, access, text="pic", media={"media_ids": [data["id"]]})
    assert late.status_code == 400


# --- limits, faults, lost responses ---


async def test_rate_limit_429_with_headers_and_reset(sim: Sim) -> None:
    sim.state.config.user_limits["users.me"] = 2
    access = (await token(sim.http))["access_token"]
    for _ in range(2):
        assert (await sim.http.get("/2/users/me", headers=bearer(access))).status_code == 200
    response = await sim.http.get("/2/users/me", headers=bearer(access))
    assert response.status_code == 429
    assert response.json() == {
        "title": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
        "detail": "Too Many Requests",
    }
    assert response.headers["x-rate-limit-remaining"] == "0"
    reset = int(response.headers["x-rate-limit-reset"])  # the window ends in (reset - 1, reset]
    sim.clock.advance(reset - sim.clock.now().timestamp() - 1.5)
    assert (await sim.http.get("/2/users/me", headers=bearer(access))).status_code == 429
    sim.clock.advance(reset - sim.clock.now().timestamp())  # the second the header names
    assert (await sim.http.get("/2/users/me", headers=bearer(access))).status_code == 200


async def test_usage_cap_and_injected_faults(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    sim.state.faults.inject("tweets.create", "usage_cap")
    capped = await post(sim.http, access, text="a")
    assert capped.status_code == 429 and capped.json()["title"] == "UsageCapExceeded"
    sim.state.faults.inject("tweets.create", "error", status=503)
    assert (await post(sim.http, access, text="b")).status_code == 503
    sim.state.faults.inject("tweets.create", "rate_limit")
    assert (await post(sim.http, access, text="c")).status_code == 429
    assert not sim.state.tweets  # none of those created a post


async def test_lost_response_commits_the_post(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    sim.state.faults.inject("tweets.create", "lost_response", delay=0.5)
    with pytest.raises(httpx.ReadTimeout):
        await sim.http.post(
            "/2/tweets", json={"text": "landed"}, headers=bearer(access), timeout=0.1
        )
    listed = await sim.http.get("/2/users/2244994945/tweets", headers=bearer(access))
    assert [t["text"] for t in listed.json()["data"]] == ["landed"]
    again = await post(sim.http, access, text="landed")
    assert again.status_code == 403  # the retry is refused as a duplicate


async def test_app_wide_daily_post_limit(sim: Sim) -> None:
    sim.state.config.app_limits["tweets.create"] = (1, 86_400.0)
    mine = (await token(sim.http))["access_token"]
    other = (await token(sim.http, user="other"))["access_token"]
    first = await post(sim.http, mine, text="one")
    assert first.headers["x-app-limit-24hour-remaining"] == "0"
    refused = await post(sim.http, other, text="two")
    assert refused.status_code == 429


async def test_user_daily_post_limit(sim: Sim) -> None:
    sim.state.config.user_daily_post_limit = 1
    access = (await token(sim.http))["access_token"]
    first = await post(sim.http, access, text="one")
    assert first.headers["x-user-limit-24hour-limit"] == "1"
    assert first.headers["x-user-limit-24hour-remaining"] == "0"
    assert (await post(sim.http, access, text="two")).status_code == 429


async def test_legacy_command_upload_form_still_works(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    data = mp4(1500)
    init = await sim.http.post(
        "/2/media/upload",
        headers=bearer(access),
        data={
            "command": "INIT",
            "media_type": "video/mp4",
            "total_bytes": "1500",
            "media_category": "tweet_video",
        },
    )
    media_id = init.json()["data"]["id"]
    append = await sim.http.post(
        "/2/media/upload",
        headers=bearer(access),
        data={"command": "APPEND", "media_id": media_id, "segment_index": "0"},
        files={"media": data},
    )
    assert append.status_code == 204
    final = await sim.http.post(
        "/2/media/upload",
        headers=bearer(access),
        data={"command": "FINALIZE", "media_id": media_id},
    )
    assert final.json()["data"]["processing_info"]["state"] == "pending"


async def test_malformed_bodies_are_400_not_500(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    headers = {**bearer(access), "content-type": "application/json"}
    for path in ("/2/tweets", "/2/media/upload/initialize", "/2/media/upload"):
        response = await sim.http.post(path, content=b"{oops", headers=headers)
        assert response.status_code == 400, path
