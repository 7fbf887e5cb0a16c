"""The LinkedIn simulator against LinkedIn's OAuth and Posts API contract, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from allin.simulator.social.common import ManualClock
from allin.simulator.social.linkedin import (
    LinkedInConfig,
    LinkedInState,
    Member,
    Organization,
    create_linkedin_simulator,
)
from allin.simulator.social.linkedin.littletext import RESERVED, escape, stored_commentary
from tests.support.server import serve

CLIENT, SECRET = "sim-linkedin-client-id", "sim-linkedin-client-secret-for-tests"
REDIRECT = "http://127.0.0.1:5000/api/social/accounts/linkedin/callback"
ME = "urn:li:person:aB3dE5fG7h"
ORG = "urn:li:organization:1001"
SCOPES = "openid profile email w_member_social r_member_social"


@dataclass
class Sim:
    http: httpx.AsyncClient
    state: LinkedInState
    clock: ManualClock


async def _sim(partner: bool = False) -> AsyncIterator[Sim]:
    clock = ManualClock()
    config = LinkedInConfig(
        clock=clock,
        partner=partner,
        members=[
            Member("aB3dE5fG7h", "Alex", "Creator", "alex@example.com"),
            Member("zZ9", "Other", "Member"),
        ],
        organizations=[Organization("1001", "Acme", admins=["aB3dE5fG7h"])],
    )
    app = create_linkedin_simulator(config)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:
        yield Sim(http, app.state.sim, clock)


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    async for value in _sim():
        yield value


@pytest.fixture
async def partner() -> AsyncIterator[Sim]:
    async for value in _sim(partner=True):
        yield value


async def authorize(http: httpx.AsyncClient, scope: str = SCOPES, **extra: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": CLIENT,
        "redirect_uri": REDIRECT,
        "state": "st",
        "scope": scope,
        **extra,
    }
    response = await http.get("/oauth/v2/authorization", params=params)
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


async def token(http: httpx.AsyncClient, scope: str = SCOPES) -> dict[str, object]:
    code = (await authorize(http, scope))["code"]
    response = await http.post(
        "/oauth/v2/accessToken",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": CLIENT,
            "client_secret": SECRET,
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def rest(access: object, version: str = "202611") -> dict[str, str]:
    return {
        "Authorization": f"Bearer {access}",
        "LinkedIn-Version": version,
        "X-Restli-Protocol-Version": "2.0.0",
    }


def post_body(commentary: str, author: str = ME, **extra: object) -> dict[str, object]:
    return {
        "author": author,
        "commentary": commentary,
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
        **extra,
    }


async def create(sim: Sim, access: object, commentary: str, **extra: object) -> httpx.Response:
    return await sim.http.post(
        "/rest/posts", json=post_body(commentary, **extra), headers=rest(access)
    )


# --- OAuth ---


async def test_code_exchange_with_body_credentials_and_60_day_token(sim: Sim) -> None:
    body = await token(sim.http)
    assert body["expires_in"] == 5_184_000 and "refresh_token" not in body
    assert set(str(body["scope"]).split(",")) == set(SCOPES.split())
    claims = jwt.decode(str(body["id_token"]), SECRET, algorithms=["HS256"], audience=CLIENT)
    assert claims["sub"] == "aB3dE5fG7h" and claims["email"] == "alex@example.com"


async def test_basic_auth_instead_of_body_credentials_is_refused(sim: Sim) -> None:
    code = (await authorize(sim.http))["code"]
    response = await sim.http.post(
        "/oauth/v2/accessToken",
        auth=(CLIENT, SECRET),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


async def test_consent_denied_redirects_with_error(sim: Sim) -> None:
    query = await authorize(sim.http, sim_decision="deny")
    assert query["error"] == "user_cancelled_authorize" and query["state"] == "st"


async def test_partner_refresh_does_not_rotate_and_lifetime_counts_down(partner: Sim) -> None:
    first = await token(partner.http)
    assert first["refresh_token_expires_in"] == 31_536_000
    partner.clock.advance(59 * 86_400)
    response = await partner.http.post(
        "/oauth/v2/accessToken",
        data={
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": CLIENT,
            "client_secret": SECRET,
        },
    )
    second = response.json()
    assert second["refresh_token"] == first["refresh_token"]
    assert second["refresh_token_expires_in"] == 306 * 86_400
    assert second["access_token"] != first["access_token"] and second["expires_in"] == 5_184_000


async def test_refresh_is_refused_for_apps_that_are_not_partners(sim: Sim) -> None:
    body = await token(sim.http)
    assert "refresh_token" not in body
    response = await sim.http.post(
        "/oauth/v2/accessToken",
        data={
            "grant_type": "refresh_token",
            "refresh_token": str(body["access_token"]),
            "client_id": CLIENT,
            "client_secret": SECRET,
        },
    )
    assert response.status_code == 400


async def test_introspection_statuses_and_revoke(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    form = {"client_id": CLIENT, "client_secret": SECRET, "token": str(access)}
    active = (await sim.http.post("/oauth/v2/introspectToken", data=form)).json()
    assert active["active"] is True and active["status"] == "active"
    assert active["auth_type"] == "3L"
    assert (await sim.http.post("/oauth/v2/revoke", data=form)).status_code == 200
    revoked = (await sim.http.post("/oauth/v2/introspectToken", data=form)).json()
    assert revoked == revoked | {"active": False, "status": "revoked"}
    response = await sim.http.get("/v2/userinfo", headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == 401
    assert response.json() == {
        "status": 401,
        "serviceErrorCode": 65601,
        "code": "REVOKED_ACCESS_TOKEN",
        "message": "The token used in the request has been revoked by the user",
    }


async def test_expired_token(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    sim.clock.advance(5_184_000)
    form = {"client_id": CLIENT, "client_secret": SECRET, "token": str(access)}
    assert (await sim.http.post("/oauth/v2/introspectToken", data=form)).json()[
        "status"
    ] == "expired"
    response = await create(sim, access, "late")
    assert response.status_code == 401
    assert response.json()["serviceErrorCode"] == 65602
    assert response.json()["code"] == "EXPIRED_ACCESS_TOKEN"


async def test_userinfo_and_v2_me(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    info = await sim.http.get("/v2/userinfo", headers={"Authorization": f"Bearer {access}"})
    assert info.json()["sub"] == "aB3dE5fG7h" and info.json()["email_verified"] is True
    me = await sim.http.get("/v2/me", headers={"Authorization": f"Bearer {access}"})
    assert me.status_code == 403
    assert me.json() == {
        "status": 403,
        "serviceErrorCode": 100,
        "code": "ACCESS_DENIED",
        "message": "Not enough permissions to access: me.GET.NO_VERSION",
    }


# --- required headers ---


async def test_version_header_is_required_and_must_be_active(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    headers = rest(access)
    del headers["LinkedIn-Version"]
    missing = await sim.http.post("/rest/posts", json=post_body("x"), headers=headers)
    assert missing.status_code == 400
    old = await sim.http.post("/rest/posts", json=post_body("x"), headers=rest(access, "202501"))
    assert old.status_code == 426
    assert old.json() == {
        "status": 426,
        "code": "NONEXISTENT_VERSION",
        "message": "Requested version 202501 is not active",
    }


# --- /rest/posts ---


async def test_create_is_201_with_restli_id_and_empty_body_then_read_back(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    response = await create(sim, access, "Hello \\(escaped\\) world #tag")
    assert response.status_code == 201 and response.content == b""
    urn = response.headers["x-restli-id"]
    assert urn.startswith("urn:li:share:")
    got = await sim.http.get(f"/rest/posts/{quote(urn, safe='')}", headers=rest(access))
    assert got.status_code == 200
    assert got.json()["commentary"] == "Hello \\(escaped\\) world #tag"
    assert got.json()["author"] == ME and got.json()["lifecycleState"] == "PUBLISHED"
    listed = await sim.http.get(
        "/rest/posts", headers=rest(access), params={"author": ME, "q": "author", "count": "10"}
    )
    assert [p["id"] for p in listed.json()["elements"]] == [urn]


@pytest.mark.parametrize(
    "field", ["author", "commentary", "visibility", "distribution", "lifecycleState"]
)
async def test_missing_required_field_is_422(sim: Sim, field: str) -> None:
    access = (await token(sim.http))["access_token"]
    body = post_body("x")
    del body[field]
    response = await sim.http.post("/rest/posts", json=body, headers=rest(access))
    assert response.status_code == 422
    assert f"ERROR :: /{field} :: field is required" in response.json()["message"]


async def test_malformed_json_is_400(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    response = await sim.http.post("/rest/posts", content=b"{nope", headers=rest(access))
    assert response.json() == {
        "status": 400,
        "code": "ILLEGAL_ARGUMENT",
        "message": "Request body could not be converted to data map",
    }


async def test_author_must_be_the_member_or_an_administered_org(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    other = await create(sim, access, "x", author="urn:li:person:zZ9")
    assert other.status_code == 403 and other.json()["code"] == "ACCESS_DENIED"
    org = await create(sim, access, "x", author=ORG)
    assert org.status_code == 403  # no w_organization_social
    org_token = (await token(sim.http, SCOPES + " w_organization_social"))["access_token"]
    assert (await create(sim, org_token, "as the company", author=ORG)).status_code == 201


async def test_scope_missing_is_403_access_denied(sim: Sim) -> None:
    access = (await token(sim.http, "openid profile"))["access_token"]
    response = await create(sim, access, "x")
    assert response.status_code == 403
    assert response.json()["serviceErrorCode"] == 100
    writer = (await token(sim.http, "openid profile w_member_social"))["access_token"]
    urn = (await create(sim, writer, "mine")).headers["x-restli-id"]
    read = await sim.http.get(f"/rest/posts/{quote(urn, safe='')}", headers=rest(writer))
    assert read.status_code == 403  # reading needs r_member_social


async def test_over_3000_characters_is_refused(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    assert (await create(sim, access, "a" * 3000)).status_code == 201
    assert (await create(sim, access, "b" * 3001)).status_code == 422


async def test_unescaped_reserved_character_truncates_silently(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    response = await create(sim, access, "Big news (finally) for everyone")
    assert response.status_code == 201
    urn = response.headers["x-restli-id"]
    got = await sim.http.get(f"/rest/posts/{quote(urn, safe='')}", headers=rest(access))
    assert got.json()["commentary"] == "Big news "


async def test_duplicate_names_the_earlier_post_even_after_delete(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    urn = (await create(sim, access, "same text")).headers["x-restli-id"]
    again = await create(sim, access, "same text")
    assert again.status_code == 422
    error = again.json()["errorDetails"]["inputErrors"][0]
    assert error["code"] == "DUPLICATE_POST" and urn in error["description"]
    deleted = await sim.http.delete(f"/rest/posts/{quote(urn, safe='')}", headers=rest(access))
    assert deleted.status_code == 204
    ghost = await create(sim, access, "same text")
    assert urn in ghost.json()["message"]  # a ghost URN for 24-48 h


async def test_daily_throttle_resets_at_midnight_utc(sim: Sim) -> None:
    sim.state.config.daily_member_limit = 1
    access = (await token(sim.http))["access_token"]
    assert (await create(sim, access, "one")).status_code == 201
    throttled = await create(sim, access, "two")
    assert throttled.status_code == 429
    assert "APPLICATION_AND_MEMBER DAY limit" in throttled.json()["message"]
    assert "retry-after" not in throttled.headers
    assert not [h for h in throttled.headers if h.startswith("x-ratelimit")]
    now = sim.clock.now().timestamp()
    sim.clock.advance(86_400 - now % 86_400 + 1)
    assert (await create(sim, access, "two")).status_code == 201


async def test_the_app_daily_throttle_names_the_application(sim: Sim) -> None:
    sim.state.config.daily_app_limit = 1
    access = (await token(sim.http))["access_token"]
    assert (await create(sim, access, "one")).status_code == 201
    throttled = await create(sim, access, "two")
    assert throttled.status_code == 429
    assert "throttle APPLICATION DAY limit" in throttled.json()["message"]


async def test_injected_faults_and_lost_response(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    sim.state.faults.inject("posts.create", "error", status=502)
    assert (await create(sim, access, "a")).status_code == 502
    sim.state.faults.inject("posts.create", "rate_limit")
    assert (await create(sim, access, "a")).status_code == 429
    assert not sim.state.posts
    sim.state.faults.inject("posts.create", "lost_response", delay=0.5)
    with pytest.raises(httpx.ReadTimeout):
        await sim.http.post(
            "/rest/posts", json=post_body("landed"), headers=rest(access), timeout=0.1
        )
    dup = await create(sim, access, "landed")
    assert dup.json()["errorDetails"]["inputErrors"][0]["code"] == "DUPLICATE_POST"


# --- media ---


async def test_image_upload_processing_and_posting_before_available(sim: Sim) -> None:
    access = (await token(sim.http))["access_token"]
    init = await sim.http.post(
        "/rest/images",
        params={"action": "initializeUpload"},
        json={"initializeUploadRequest": {"owner": ME}},
        headers=rest(access),
    )
    value = init.json()["value"]
    image = value["image"]
    assert image.startswith("urn:li:image:") and value["uploadUrlExpiresAt"] > 0
    path = f"/rest/images/{quote(image, safe='')}"
    assert (await sim.http.get(path, headers=rest(access))).json()["status"] == "WAITING_UPLOAD"
    early = await create(sim, access, "pic", content={"media": {"id": image}})
    assert early.status_code == 400
    put = await sim.http.put(
        value["uploadUrl"], content=b"\xff\xd8 jpeg", headers={"Authorization": f"Bearer {access}"}
    )
    assert put.status_code == 201
    assert (await sim.http.get(path, headers=rest(access))).json()["status"] == "PROCESSING"
    sim.clock.advance(2)
    assert (await sim.http.get(path, headers=rest(access))).json()["status"] == "AVAILABLE"
    assert (await create(sim, access, "pic", content={"media": {"id": image}})).status_code == 201


async def test_video_parts_etags_finalize_and_failure(sim: Sim) -> None:
    sim.state.config.video_part_size = 10
    access = (await token(sim.http))["access_token"]
    init = await sim.http.post(
        "/rest/videos",
        params={"action": "initializeUpload"},
        json={
            "initializeUploadRequest": {
                "owner": ME,
                "fileSizeBytes": 25,
                "uploadCaptions": False,
                "uploadThumbnail": False,
            }
        },
        headers=rest(access),
    )
    value = init.json()["value"]
    ranges = [(i["firstByte"], i["lastByte"]) for i in value["uploadInstructions"]]
    assert ranges == [(0, 9), (10, 19), (20, 24)]
    data = bytes(range(25))
    etags = []
    for instruction in value["uploadInstructions"]:
        chunk = data[instruction["firstByte"] : instruction["lastByte"] + 1]
        put = await sim.http.put(instruction["uploadUrl"], content=chunk)
        etags.append(put.headers["etag"])
    sim.state.fail_next_media = 1
    final = await sim.http.post(
        "/rest/videos",
        params={"action": "finalizeUpload"},
        json={
            "finalizeUploadRequest": {
                "video": value["video"],
                "uploadToken": "",
                "uploadedPartIds": etags,
            }
        },
        headers=rest(access),
    )
    assert final.status_code == 200
    sim.clock.advance(2)
    status = await sim.http.get(
        f"/rest/videos/{quote(value['video'], safe='')}", headers=rest(access)
    )
    assert status.json()["status"] == "PROCESSING_FAILED"
    post = await create(sim, access, "vid", content={"media": {"id": value["video"]}})
    assert post.status_code == 400 and post.json()["code"] == "MEDIA_ASSET_PROCESSING_FAILED"


# --- little text ---

_text = st.text(alphabet=st.sampled_from(sorted(RESERVED) + list("ab #@xyz")), max_size=60)


@given(_text)
def test_escaped_text_is_kept_whole(text: str) -> None:
    assert stored_commentary(escape(text)) == escape(text)


@given(_text)
def test_stored_text_is_a_prefix_cut_only_at_a_reserved_character(text: str) -> None:
    kept = stored_commentary(text)
    assert text.startswith(kept)
    if kept != text:
        assert text[len(kept)] in RESERVED


def test_hashtags_and_mentions_survive() -> None:
    text = "Hi @[Acme](urn:li:organization:1001) see #launch now"
    assert stored_commentary(text) == text
    assert stored_commentary("a @b") == "a "
