"""Connecting, refreshing, expiring and revoking a TikTok account through the social API, with
TikTok's Open API simulator on loopback."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from allin.core.crypto import cipher_from_settings
from allin.core.domain import app_state
from allin.social.models import SocialAccount, token_context
from tests.auth.helpers import SignedIn
from tests.social.flows import API, code_of, connect, consent
from tests.tiktok.conftest import MovableClock, Sim


async def _rows(app: FastAPI) -> list[SocialAccount]:
    async with app_state(app).session_factory() as db:
        return list(await db.scalars(select(SocialAccount)))


async def test_connect_lists_the_account_with_what_a_page_shows(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn, sim: Sim
) -> None:
    creator = sim.world.users[sim.world.current_user]
    account = await connect(client, alice)
    assert account["platform"] == "tiktok" and account["status"] == "ACTIVE"
    assert account["platform_user_id"] == creator.open_id
    assert account["display_name"] == creator.display_name and account["avatar_url"]
    assert account["reconnect_required"] is False and account["can_refresh"] is True
    assert account["expires_in_seconds"] > 0 and "access_token" not in str(account)

    listed = (await client.get(f"{API}/accounts", headers=alice.headers)).json()["data"]
    assert [a["id"] for a in listed] == [account["id"]]
    one = await client.get(f"{API}/accounts/{account['id']}", headers=alice.headers)
    assert one.json()["data"]["id"] == account["id"]

    (row,) = await _rows(app)
    cipher = cipher_from_settings(app_state(app).settings)
    assert row.access_token_enc and row.token_binding == "row"
    assert cipher.decrypt(row.access_token_enc, token_context(row.id)).startswith("act.")


async def test_the_same_account_twice_is_one_row_keeping_its_refresh_token(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn
) -> None:
    first = await connect(client, alice)
    (before,) = await _rows(app)
    again = await connect(client, alice)
    assert again["id"] == first["id"]
    (after,) = await _rows(app)
    assert after.refresh_token_enc and after.access_token_enc != before.access_token_enc


async def test_other_users_never_see_an_account(
    client: httpx.AsyncClient, alice: SignedIn, bob: SignedIn
) -> None:
    account = await connect(client, alice)
    path = f"{API}/accounts/{account['id']}"
    for method in ("GET", "DELETE"):
        response = await client.request(method, path, headers=bob.headers)
        assert response.status_code == 404 and code_of(response) == "SOCIAL_010"
    refresh = await client.put(f"{path}/refresh", headers=bob.headers)
    assert refresh.status_code == 404
    assert (await client.get(f"{API}/accounts", headers=bob.headers)).json()["data"] == []
    assert (await client.get(path)).status_code == 401


async def test_refresh_rotates_and_stores_the_new_pair(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn, sim: Sim
) -> None:
    account = await connect(client, alice)
    (before,) = await _rows(app)
    response = await client.put(f"{API}/accounts/{account['id']}/refresh", headers=alice.headers)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["status"] == "ACTIVE"
    (after,) = await _rows(app)
    cipher = cipher_from_settings(app_state(app).settings)
    old = cipher.decrypt(before.access_token_enc or "", token_context(before.id))
    new = cipher.decrypt(after.access_token_enc or "", token_context(after.id))
    assert old != new and new in sim.world.access and sim.world.access[new].valid()
    assert after.token_refreshed_at is not None


async def test_a_revoked_grant_marks_the_account_for_reconnect(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn, sim: Sim
) -> None:
    account = await connect(client, alice)
    sim.world.remove_authorization(account["platform_user_id"])
    response = await client.put(f"{API}/accounts/{account['id']}/refresh", headers=alice.headers)
    assert response.status_code == 401 and code_of(response) == "SOCIAL_001"
    assert response.json()["error"]["details"]["reconnect"] is True
    shown = (await client.get(f"{API}/accounts/{account['id']}", headers=alice.headers)).json()
    assert shown["data"]["status"] == "REVOKED" and shown["data"]["reconnect_required"] is True
    assert shown["data"]["last_error"]

    again = await connect(client, alice)  # one click: reconnecting makes it ACTIVE again
    assert again["id"] == account["id"] and again["status"] == "ACTIVE"


async def test_a_transient_failure_never_marks_an_account_dead(
    client: httpx.AsyncClient, alice: SignedIn, sim: Sim
) -> None:
    account = await connect(client, alice)
    sim.world.inject("token", 503, None)  # an HTML error page, as a proxy would answer
    response = await client.put(f"{API}/accounts/{account['id']}/refresh", headers=alice.headers)
    assert response.status_code == 502 and code_of(response) == "SOCIAL_002"
    shown = (await client.get(f"{API}/accounts/{account['id']}", headers=alice.headers)).json()
    assert shown["data"]["status"] == "ACTIVE" and shown["data"]["last_error"]
    retried = await client.put(f"{API}/accounts/{account['id']}/refresh", headers=alice.headers)
    assert retried.status_code == 200 and retried.json()["data"]["last_error"] is None


async def test_delete_revokes_at_the_platform_then_forgets(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn, sim: Sim
) -> None:
    account = await connect(client, alice)
    (row,) = await _rows(app)
    cipher = cipher_from_settings(app_state(app).settings)
    token = cipher.decrypt(row.access_token_enc or "", token_context(row.id))
    response = await client.delete(f"{API}/accounts/{account['id']}", headers=alice.headers)
    assert response.status_code == 200 and response.json()["data"]["revoked"] is True
    assert not sim.world.access[token].valid()
    assert await _rows(app) == []
    gone = await client.get(f"{API}/accounts/{account['id']}", headers=alice.headers)
    assert gone.status_code == 404


async def test_expired_tokens_are_refreshed_by_the_bulk_refresh(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn, moved: MovableClock
) -> None:
    account = await connect(client, alice)
    from tests.auth.helpers import Role, signed_in

    admin = await signed_in(client, app, role=Role.ADMIN)
    refused = await client.post("/api/admin/social/refresh", headers=alice.headers)
    assert refused.status_code == 403
    moved.advance(25 * 3600)  # past the access token's 24 h
    shown = (await client.get(f"{API}/accounts/{account['id']}", headers=alice.headers)).json()
    assert shown["data"]["expires_in_seconds"] < 0
    report = await client.post(
        "/api/admin/social/refresh", params={"expiring_within": "1d"}, headers=admin.headers
    )
    assert report.status_code == 200, report.text
    assert report.json()["data"]["refreshed"] == [account["id"]]
    shown = (await client.get(f"{API}/accounts/{account['id']}", headers=alice.headers)).json()
    assert shown["data"]["expires_in_seconds"] > 0


async def test_providers_and_external_apis_show_what_is_configured(
    client: httpx.AsyncClient, alice: SignedIn
) -> None:
    listed = (await client.get(f"{API}/providers", headers=alice.headers)).json()["data"]
    by_platform = {p["platform"]: p for p in listed}
    assert set(by_platform) == {"tiktok", "x", "linkedin", "facebook", "instagram"}
    assert by_platform["tiktok"]["status"] == "configured"
    assert by_platform["tiktok"]["redirect_uri"].endswith("/api/social/accounts/tiktok/callback")
    assert by_platform["x"]["configured"] is False
    not_there = await client.get(f"{API}/accounts/x/connect", headers=alice.headers)
    assert not_there.status_code in (404, 409) and code_of(not_there) in (
        "SOCIAL_009",
        "SOCIAL_005",
    )
    unknown = await client.get(f"{API}/accounts/myspace/connect", headers=alice.headers)
    assert unknown.status_code == 404 and code_of(unknown) == "SOCIAL_009"

    await connect(client, alice)
    health = (await client.get("/api/health/external-apis")).json()["data"]["platforms"]
    tiktok = next(p for p in health if p["platform"] == "tiktok")
    assert tiktok["configured"] is True and tiktok["circuit_breaker"] == "CLOSED"
    assert tiktok["last_success_at"] is not None
    assert next(p for p in health if p["platform"] == "x")["configured"] is False


async def test_account_ids_are_uuids_only(client: httpx.AsyncClient, alice: SignedIn) -> None:
    response = await client.get(f"{API}/accounts/{uuid.uuid4()}", headers=alice.headers)
    assert response.status_code == 404
    assert (await client.get(f"{API}/accounts/not-an-id", headers=alice.headers)).status_code in (
        404,
        405,
    )


async def test_consent_query_is_kept_server_side(
    client: httpx.AsyncClient, app: FastAPI, alice: SignedIn
) -> None:
    query = await consent(client, alice)
    assert "state=" in query
    from allin.social.models import SocialOAuthAttempt

    async with app_state(app).session_factory() as db:
        count = await db.scalar(select(func.count()).select_from(SocialOAuthAttempt))
        attempt = await db.scalar(select(SocialOAuthAttempt))
    assert count == 1 and attempt is not None
    state = dict(part.split("=", 1) for part in query.split("&"))["state"]
    assert state not in attempt.state_digest and attempt.code_verifier_enc
    assert attempt.binding_digest


async def test_the_callback_returns_the_browser_to_the_page_that_asked(
    client: httpx.AsyncClient, alice: SignedIn, sim: Sim
) -> None:
    started = await client.get(
        f"{API}/accounts/tiktok/connect",
        params={"return_to": "/accounts?tab=social"},
        headers=alice.headers,
    )
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(started.json()["data"]["authorization_url"])
    query = answer.headers["location"].split("?", 1)[1]
    back = await client.get(f"{API}/accounts/tiktok/callback?{query}")
    assert back.status_code == 303
    location = back.headers["location"]
    assert location.startswith("/accounts?tab=social&") and "social=connected" in location

    sim.world.deny_consent = True
    started = await client.get(
        f"{API}/accounts/tiktok/connect", params={"return_to": "/accounts"}, headers=alice.headers
    )
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(started.json()["data"]["authorization_url"])
    query = answer.headers["location"].split("?", 1)[1]
    back = await client.get(f"{API}/accounts/tiktok/callback?{query}")
    assert back.status_code == 303 and "code=SOCIAL_007" in back.headers["location"]


async def test_return_to_must_stay_on_this_server(
    client: httpx.AsyncClient, alice: SignedIn
) -> None:
    for target in ("https://evil.example/x", "//evil.example/x", "/\\evil.example"):
        response = await client.get(
            f"{API}/accounts/tiktok/connect", params={"return_to": target}, headers=alice.headers
        )
        assert response.status_code == 422 and code_of(response) == "VALIDATION_ERROR"
