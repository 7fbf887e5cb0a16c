"""Login Kit against the simulator: authorize, code exchange, refresh (both profiles), revoke."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from allin.simulator.open_api import PROFILE_2026
from allin.tiktok import oauth
from allin.tiktok.client import TikTokClient
from allin.tiktok.errors import TikTokError, TikTokErrorType
from tests.tiktok.conftest import MovableClock, Sim, authorize, connect, make_config


def test_authorization_url_shape(tiktok: TikTokClient) -> None:
    url, state = tiktok.authorization_url(["user.info.basic", "video.list"])
    assert len(state) == 64 and int(state, 16) >= 0
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert urlsplit(url).path == "/v2/auth/authorize/"
    assert query["client_key"] == tiktok.config.client_key
    assert "client_id" not in query
    assert query["scope"] == "user.info.basic,video.list"
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    verifier = tiktok.code_verifier(state)
    assert 43 <= len(verifier) <= 128
    assert query["code_challenge"] == hashlib.sha256(verifier.encode()).hexdigest()
    assert tiktok.authorization_url().state != state  # one-time


def test_pkce_is_hex_not_base64url() -> None:
    challenge = oauth.code_challenge("a" * 43)
    assert len(challenge) == 64 and all(c in "0123456789abcdef" for c in challenge)


async def test_full_connect_flow(tiktok: TikTokClient, sim: Sim) -> None:
    tokens = await connect(tiktok)
    assert tokens.access_token.startswith("act.")
    assert tokens.refresh_token and tokens.refresh_token.startswith("rft.")
    assert tokens.expires_in == 86_400 and tokens.refresh_expires_in == 31_536_000
    assert tokens.open_id == sim.world.current_user
    assert "video.publish" in tokens.scope
    info = await tiktok.user_info(tokens.access_token)
    assert info.open_id == tokens.open_id
    assert info.display_name == "Sim Creator"


async def test_code_is_single_use(tiktok: TikTokClient) -> None:
    query = await authorize(tiktok)
    await tiktok.exchange_code(query["code"], state=query["state"])
    with pytest.raises(TikTokError) as caught:
        await tiktok.exchange_code(query["code"], state=query["state"])
    assert caught.value.code == "invalid_grant"
    assert caught.value.type is TikTokErrorType.TOKEN_EXPIRED
    assert caught.value.log_id and caught.value.user_message


async def test_code_expires(tiktok: TikTokClient, moved: MovableClock) -> None:
    query = await authorize(tiktok)
    moved.advance(301)
    with pytest.raises(TikTokError, match="expired"):
        await tiktok.exchange_code(query["code"], state=query["state"])


async def test_code_needs_url_decoding(tiktok: TikTokClient) -> None:
    query = await authorize(tiktok)
    assert "*" in query["code"] and "!" in query["code"]
    encoded = query["code"].replace("*", "%2A").replace("!", "%21")
    tokens = await tiktok.exchange_code(encoded, state=query["state"])
    assert tokens.access_token


async def test_wrong_verifier_rejected(tiktok: TikTokClient) -> None:
    query = await authorize(tiktok)
    with pytest.raises(TikTokError) as caught:
        await tiktok.exchange_code(query["code"], state="f" * 64)
    assert "Code verifier" in caught.value.message
    assert caught.value.type is TikTokErrorType.INVALID_PARAM


async def test_redirect_uri_must_match(tiktok: TikTokClient) -> None:
    query = await authorize(tiktok)
    with pytest.raises(TikTokError, match="Redirect_uri"):
        await tiktok.exchange_code(
            query["code"],
            state=query["state"],
            redirect_uri="http://127.0.0.1:9999/api/integrations/tiktok/callback",
        )


@pytest.mark.parametrize("status", [200, 400])
async def test_oauth_errors_read_from_body_whatever_the_status(
    tiktok: TikTokClient, sim: Sim, status: int
) -> None:
    sim.config.oauth_error_status = status  # type: ignore[assignment]
    with pytest.raises(TikTokError) as caught:
        await tiktok.exchange_code("no-such-code", state="a" * 64)
    assert caught.value.code == "invalid_grant"
    assert caught.value.http_status == status


async def test_bad_secret_is_invalid_credentials(sim: Sim) -> None:
    async with TikTokClient(make_config(sim, client_secret="wrong")) as client:
        with pytest.raises(TikTokError) as caught:
            await client.refresh("rft.x")
        assert caught.value.type is TikTokErrorType.INVALID_CREDENTIALS
        assert await client.validate_credentials() is False


async def test_denied_consent_and_unapproved_scope(tiktok: TikTokClient, sim: Sim) -> None:
    sim.world.deny_consent = True
    query = await authorize(tiktok)
    with pytest.raises(TikTokError) as caught:
        oauth.parse_callback(query, expected_state=query["state"])
    assert caught.value.code == "access_denied"
    sim.world.deny_consent = False
    sim.config.approved_scopes = frozenset({"user.info.basic"})
    query = await authorize(tiktok, ("user.info.basic", "video.publish"))
    with pytest.raises(TikTokError) as caught:
        oauth.parse_callback(query)
    assert caught.value.type is TikTokErrorType.SCOPE_NOT_AUTHORIZED


async def test_callback_state_checked(tiktok: TikTokClient) -> None:
    query = await authorize(tiktok)
    result = oauth.parse_callback(query, expected_state=query["state"])
    assert "video.publish" in result.scopes
    with pytest.raises(TikTokError) as caught:
        oauth.parse_callback(query, expected_state="0" * 64)
    assert caught.value.code == "state_mismatch"


async def test_consent_page_with_toggled_scopes(tiktok: TikTokClient, sim: Sim) -> None:
    sim.config.auto_consent = False
    url, state = tiktok.authorization_url(["user.info.basic", "video.list", "video.publish"])
    async with httpx.AsyncClient() as browser:
        page = await browser.get(url)
        assert page.status_code == 200 and "Authorize" in page.text
        form = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        form.update(decision="allow")
        response = await browser.post(
            sim.url + "/v2/auth/authorize/consent/",
            content=urlencode([*form.items(), ("grant", "video.list")]),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    query = {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}
    assert query["scopes"] == "user.info.basic,video.list"
    tokens = await tiktok.exchange_code(query["code"], state=state)
    assert tokens.scope == ["user.info.basic", "video.list"]


async def test_refresh_classic_keeps_refresh_token(tiktok: TikTokClient) -> None:
    tokens = await connect(tiktok)
    assert tokens.refresh_token
    again = await tiktok.refresh(tokens.refresh_token)
    assert again.access_token != tokens.access_token
    assert again.refresh_token == tokens.refresh_token


async def test_refresh_2026_rotates_and_kills_old(tiktok: TikTokClient, sim: Sim) -> None:
    sim.config.token_profile = PROFILE_2026
    tokens = await connect(tiktok)
    assert (tokens.expires_in, tokens.refresh_expires_in) == (7_200, 15_552_000)
    assert tokens.refresh_token
    rotated = await tiktok.refresh(tokens.refresh_token)
    assert rotated.refresh_token != tokens.refresh_token
    with pytest.raises(TikTokError) as caught:
        await tiktok.refresh(tokens.refresh_token)
    assert caught.value.type is TikTokErrorType.TOKEN_EXPIRED


async def test_revoke_is_best_effort(tiktok: TikTokClient, sim: Sim) -> None:
    tokens = await connect(tiktok)
    assert await tiktok.revoke(tokens.access_token) is True
    assert sim.world.webhooks[-1].event == "authorization.removed"
    with pytest.raises(TikTokError) as caught:
        await tiktok.user_info(tokens.access_token)
    assert caught.value.code == "access_token_invalid"
    assert await tiktok.revoke("act.unknown") is False  # never raises


async def test_client_credentials_token_cached(tiktok: TikTokClient, sim: Sim) -> None:
    first = await tiktok.client_token()
    assert first.access_token.startswith("clt.") and first.expires_in == 7_200
    assert await tiktok.client_token() is first
    assert await tiktok.validate_credentials() is True
    calls = sim.world.calls["token"]
    assert await tiktok.validate_credentials() is True
    assert sim.world.calls["token"] == calls  # cached
    tiktok.clear_validation_cache()
    assert await tiktok.validate_credentials() is True
    assert sim.world.calls["token"] == calls + 1


async def test_not_configured(sim: Sim) -> None:
    async with TikTokClient(make_config(sim, client_key="")) as client:
        with pytest.raises(TikTokError) as caught:
            client.authorization_url()
        assert caught.value.type is TikTokErrorType.INVALID_CREDENTIALS
