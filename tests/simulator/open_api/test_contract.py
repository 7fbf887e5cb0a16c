"""The simulator against the documented contract, driven with plain HTTP (no AllIN client)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from allin.simulator.open_api import SimulatorConfig, World, create_open_api_simulator
from allin.simulator.open_api.oauth_routes import redirect_uri_allowed
from tests.support.server import serve

KEY, SECRET = "sim-client-key", "sim-client-secret"
REDIRECT = "http://127.0.0.1:5000/api/integrations/tiktok/callback"
VERIFIER = "v" * 64
CHALLENGE = hashlib.sha256(VERIFIER.encode()).hexdigest()


@pytest.fixture
async def sim() -> AsyncIterator[tuple[httpx.AsyncClient, World]]:
    app = create_open_api_simulator(SimulatorConfig(processing_delay=0.0))
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:
        yield http, app.state.sim


def authorize_params(**overrides: str) -> dict[str, str]:
    params = {
        "client_key": KEY,
        "scope": "user.info.basic,video.publish,video.upload",
        "redirect_uri": REDIRECT,
        "state": "s" * 64,
        "response_type": "code",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v != ""}


def location_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


async def get_token(http: httpx.AsyncClient, scope: str | None = None) -> dict[str, object]:
    params = authorize_params(**({"scope": scope} if scope else {}))
    query = location_query(await http.get("/v2/auth/authorize/", params=params))
    form = {
        "client_key": KEY,
        "client_secret": SECRET,
        "code": query["code"],
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
    }
    response = await http.post("/v2/oauth/token/", data=form)
    body: dict[str, object] = response.json()
    return body


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "user.info.basic video.list"}, "invalid_scope"),
        ({"scope": "user.info.basic,made.up"}, "invalid_scope"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "", "code_challenge_method": ""}, "invalid_request"),  # desktop PKCE
    ],
)
async def test_authorize_errors_redirect_back(
    sim: tuple[httpx.AsyncClient, World], override: dict[str, str], error: str
) -> None:
    http, _ = sim
    query = location_query(
        await http.get("/v2/auth/authorize/", params=authorize_params(**override))
    )
    assert query["error"] == error and query["state"] == "s" * 64


@pytest.mark.parametrize(
    "override", [{"client_key": "nope"}, {"redirect_uri": "https://evil.example/cb"}]
)
async def test_authorize_never_redirects_to_untrusted(
    sim: tuple[httpx.AsyncClient, World], override: dict[str, str]
) -> None:
    http, _ = sim
    response = await http.get("/v2/auth/authorize/", params=authorize_params(**override))
    assert response.status_code == 400 and "location" not in response.headers


def test_redirect_uri_rules() -> None:
    registered = ["http://127.0.0.1:*/callback/", "https://app.example/cb"]
    assert redirect_uri_allowed(registered, "http://127.0.0.1:4321/callback/")
    assert redirect_uri_allowed(registered, "https://app.example/cb")
    assert not redirect_uri_allowed(registered, "http://127.0.0.1/callback/")  # port required
    assert not redirect_uri_allowed(registered, "http://evil.example:80/callback/")
    assert not redirect_uri_allowed(registered, "https://app.example/cb?x=1")


async def test_token_response_is_flat(sim: tuple[httpx.AsyncClient, World]) -> None:
    http, _ = sim
    body = await get_token(http)
    assert set(body) == {
        "access_token",
        "expires_in",
        "open_id",
        "refresh_expires_in",
        "refresh_token",
        "scope",
        "token_type",
    }
    assert body["scope"] == "user.info.basic,video.publish,video.upload"


@pytest.mark.parametrize(
    ("form", "error", "text"),
    [
        (
            {"client_key": KEY, "grant_type": "client_credentials"},
            "invalid_request",
            "secret is missed",
        ),
        (
            {"client_key": KEY, "client_secret": "x", "grant_type": "client_credentials"},
            "invalid_client",
            "",
        ),
        (
            {"client_key": KEY, "client_secret": SECRET, "grant_type": "password"},
            "unsupported_grant_type",
            "",
        ),
        (
            {
                "client_key": KEY,
                "client_secret": SECRET,
                "grant_type": "refresh_token",
                "refresh_token": "rft.x",
            },
            "invalid_grant",
            "",
        ),
    ],
)
async def test_token_errors(
    sim: tuple[httpx.AsyncClient, World], form: dict[str, str], error: str, text: str
) -> None:
    http, _ = sim
    response = await http.post("/v2/oauth/token/", data=form)
    body = response.json()
    assert response.status_code == 400
    assert body["error"] == error and text in body["error_description"]
    assert len(body["log_id"]) == 34


async def test_token_needs_form_encoding(sim: tuple[httpx.AsyncClient, World]) -> None:
    http, _ = sim
    response = await http.post(
        "/v2/oauth/token/",
        json={"client_key": KEY, "client_secret": SECRET, "grant_type": "client_credentials"},
    )
    assert response.json()["error"] == "invalid_request"


async def test_client_token(sim: tuple[httpx.AsyncClient, World]) -> None:
    http, _ = sim
    form = {"client_key": KEY, "client_secret": SECRET, "grant_type": "client_credentials"}
    body = (await http.post("/v2/oauth/token/", data=form)).json()
    assert body["access_token"].startswith("clt.") and body["expires_in"] == 7200
    assert "refresh_token" not in body and "open_id" not in body


async def test_envelope_and_status_shapes(sim: tuple[httpx.AsyncClient, World]) -> None:
    http, world = sim
    token = (await get_token(http))["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    response = await http.post("/v2/post/publish/creator_info/query/", headers=headers, json={})
    body = response.json()
    assert body["error"]["code"] == "ok" and body["data"]["creator_nickname"] == "Sim Creator"
    init = await http.post(
        "/v2/post/publish/video/init/",
        headers=headers,
        json={
            "post_info": {"privacy_level": "PUBLIC_TO_EVERYONE", "title": "x"},
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": 100,
                "chunk_size": 100,
                "total_chunk_count": 1,
            },
        },
    )
    data = init.json()["data"]
    assert data["publish_id"].startswith("v_pub_file~v2-1.")
    assert "/video/?upload_id=" in data["upload_url"] and "upload_token=" in data["upload_url"]
    status = await http.post(
        "/v2/post/publish/status/fetch/", headers=headers, json={"publish_id": data["publish_id"]}
    )
    assert status.json()["data"] == {
        "status": "PROCESSING_UPLOAD",
        "publicaly_available_post_id": [],
        "uploaded_bytes": 0,
    }
    put = await http.put(
        data["upload_url"],
        content=b"0" * 100,
        headers={"Content-Type": "video/mp4", "Content-Range": "bytes 0-99/100"},
    )
    assert put.status_code == 201
    world.config.moderation_delay = 0
    world.advance()
    world.advance()
    status = await http.post(
        "/v2/post/publish/status/fetch/", headers=headers, json={"publish_id": data["publish_id"]}
    )
    ids = status.json()["data"]["publicaly_available_post_id"]
    assert status.json()["data"]["status"] == "PUBLISH_COMPLETE"
    assert isinstance(ids[0], int) and len(str(ids[0])) == 19  # int64 numbers, as documented
    world.config.post_id_mode = "strings"
    status = await http.post(
        "/v2/post/publish/status/fetch/", headers=headers, json={"publish_id": data["publish_id"]}
    )
    assert status.json()["data"]["publicaly_available_post_id"] == [str(ids[0])]


async def test_title_and_caps(sim: tuple[httpx.AsyncClient, World]) -> None:
    http, world = sim
    token = (await get_token(http))["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    source = {"source": "FILE_UPLOAD", "video_size": 100, "chunk_size": 100, "total_chunk_count": 1}

    async def init(path: str, body: dict[str, object]) -> httpx.Response:
        return await http.post(path, headers=headers, json=body)

    too_long = {
        "post_info": {"privacy_level": "SELF_ONLY", "title": "😀" * 1101},
        "source_info": source,
    }
    response = await init("/v2/post/publish/video/init/", too_long)  # 2202 UTF-16 units
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_params")
    for _ in range(5):
        ok = await init("/v2/post/publish/inbox/video/init/", {"source_info": source})
        assert ok.status_code == 200
    world.limits = type(world.limits)()  # the 6/min limit is not what this test is about
    sixth = await init("/v2/post/publish/inbox/video/init/", {"source_info": source})
    assert (sixth.status_code, sixth.json()["error"]["code"]) == (
        403,
        "spam_risk_too_many_pending_share",
    )
    world.users[world.current_user].banned = True
    banned = await http.post("/v2/post/publish/creator_info/query/", headers=headers, json={})
    assert (banned.status_code, banned.json()["error"]["code"]) == (
        200,
        "spam_risk_user_banned_from_posting",
    )


async def test_init_rate_limit_per_token(sim: tuple[httpx.AsyncClient, World]) -> None:
    http, _ = sim
    token = (await get_token(http))["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    source = {"source": "FILE_UPLOAD", "video_size": 100, "chunk_size": 100, "total_chunk_count": 1}
    body = {"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": source}
    codes = [
        (await http.post("/v2/post/publish/video/init/", headers=headers, json=body)).status_code
        for _ in range(7)
    ]
    assert codes == [200] * 6 + [429]
    other = (await get_token(http))["access_token"]
    response = await http.post(
        "/v2/post/publish/video/init/", headers={"Authorization": f"Bearer {other}"}, json=body
    )
    assert response.status_code == 200


async def test_active_user_cap(sim: tuple[httpx.AsyncClient, World]) -> None:
    http, world = sim
    world.config.active_user_cap = 1
    source = {"source": "FILE_UPLOAD", "video_size": 100, "chunk_size": 100, "total_chunk_count": 1}
    body = {"post_info": {"privacy_level": "SELF_ONLY"}, "source_info": source}
    first = (await get_token(http))["access_token"]
    assert (
        await http.post(
            "/v2/post/publish/video/init/", headers={"Authorization": f"Bearer {first}"}, json=body
        )
    ).status_code == 200
    world.login_as(world.add_user("second", "Second").open_id)
    second = (await get_token(http))["access_token"]
    response = await http.post(
        "/v2/post/publish/video/init/", headers={"Authorization": f"Bearer {second}"}, json=body
    )
    assert (response.status_code, response.json()["error"]["code"]) == (
        403,
        "reached_active_user_cap",
    )


async def test_unknown_path_and_consent_page(sim: tuple[httpx.AsyncClient, World]) -> None:
    http, world = sim
    assert (await http.get("/v2/nope/")).status_code == 404
    world.config.auto_consent = False
    page = await http.get("/v2/auth/authorize/", params=authorize_params())
    assert page.status_code == 200 and "video.publish" in page.text
    denied = await http.post(
        "/v2/auth/authorize/consent/",
        content=urlencode({**authorize_params(), "decision": "deny"}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert location_query(denied)["error"] == "access_denied"


def test_url_verification_rules() -> None:
    from allin.simulator.open_api.api_routes import url_verified

    world = World(SimulatorConfig(verified_domains=["static.example.com"]))
    world.config.verified_url_prefixes = ["https://cdn.example.org/u/", "https://10.0.0.1/v/"]
    assert url_verified(world, "https://video.static.example.com/a.mp4")  # subdomains covered
    assert not url_verified(world, "https://example.com/a.mp4")  # parent domain is not
    assert url_verified(world, "https://cdn.example.org/u/a.mp4")
    assert not url_verified(world, "https://cdn.example.org/other/a.mp4")
    assert not url_verified(world, "https://10.0.0.1/v/a.mp4")  # no IP prefixes
    assert not url_verified(world, "http://video.static.example.com/a.mp4")  # https only
