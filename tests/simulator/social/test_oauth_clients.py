"""requests-oauthlib, an independent OAuth 2.0 client, signs in against the LinkedIn and Meta
simulators the way integrations commonly do."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from requests_oauthlib import OAuth2Session

from allin.simulator.social.linkedin import create_linkedin_simulator
from allin.simulator.social.meta import create_meta_simulator
from tests.support.server import serve_in_thread


@pytest.fixture(autouse=True)
def plain_http(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # loopback, no TLS
    # LinkedIn answers `scope` comma-separated, not space-separated as RFC 6749 §3.3
    # asks; integrations relax oauthlib's scope comparison for it.
    monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    yield


def test_linkedin_code_flow_with_body_credentials() -> None:
    redirect = "http://127.0.0.1:5000/api/social/accounts/linkedin/callback"
    with serve_in_thread(create_linkedin_simulator()) as base:
        session = OAuth2Session(
            "sim-linkedin-client-id",
            redirect_uri=redirect,
            scope=["openid", "profile", "w_member_social"],
        )
        url, state = session.authorization_url(f"{base}/oauth/v2/authorization")
        consent = session.get(url, allow_redirects=False)
        assert consent.status_code == 302
        token = session.fetch_token(
            f"{base}/oauth/v2/accessToken",
            authorization_response=consent.headers["location"],
            client_secret="sim-linkedin-client-secret-for-tests",
            include_client_id=True,  # LinkedIn wants credentials in the body, not Basic
        )
        assert token["expires_in"] == 5_184_000 and state
        me = session.get(f"{base}/v2/userinfo")
        assert me.json()["sub"] == "aB3dE5fG7h"


def test_meta_code_flow_then_graph_call() -> None:
    redirect = "http://127.0.0.1:5000/api/social/accounts/facebook/callback"
    with serve_in_thread(create_meta_simulator()) as base:
        session = OAuth2Session(
            "1234567890123456",
            redirect_uri=redirect,
            scope=["pages_show_list", "pages_manage_posts"],
        )
        url, _ = session.authorization_url(f"{base}/v25.0/dialog/oauth")
        consent = session.get(url, allow_redirects=False)
        token = session.fetch_token(
            f"{base}/v25.0/oauth/access_token",
            authorization_response=consent.headers["location"],
            client_secret="sim-meta-app-secret",
            include_client_id=True,
        )
        assert token["token_type"].lower() == "bearer"
        pages = session.get(f"{base}/v25.0/me/accounts").json()["data"]
        assert pages[0]["id"] == "104000000000001" and pages[0]["access_token"]
