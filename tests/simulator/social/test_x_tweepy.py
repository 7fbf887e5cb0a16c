"""Tweepy (an independent, maintained X API v2 client, with requests-oauthlib for OAuth 2.0
PKCE) run against the X simulator: the simulator must satisfy a client it was not built for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import tweepy
from requests.adapters import HTTPAdapter

from allin.simulator.social.x import XConfig, create_x_simulator
from tests.support.server import serve_in_thread

REDIRECT = "http://127.0.0.1:5000/api/social/accounts/x/callback"


class ToSimulator(HTTPAdapter):
    """Sends what tweepy addresses to X's hosts to the simulator on loopback instead."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        assert request.url is not None
        parts = urlsplit(request.url)
        request.url = self.base + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().send(request, *args, **kwargs)


@pytest.fixture
def sim() -> Iterator[tuple[str, Any]]:
    app = create_x_simulator(XConfig())
    with serve_in_thread(app) as url:
        yield url, app.state.sim


def mount(session: requests.Session, base: str) -> None:
    for host in ("https://api.twitter.com/", "https://twitter.com/", "https://api.x.com/"):
        session.mount(host, ToSimulator(base))


def user_token(base: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the callback is plain http here
    handler = tweepy.OAuth2UserHandler(
        client_id="sim-x-client-id",
        redirect_uri=REDIRECT,
        scope=["tweet.read", "tweet.write", "users.read", "offline.access"],
        client_secret="sim-x-client-secret",
    )
    mount(handler, base)
    consent = handler.get(handler.get_authorization_url(), allow_redirects=False)
    assert consent.status_code == 302
    token = handler.fetch_token(consent.headers["location"])
    assert token["token_type"] == "bearer" and token["refresh_token"]
    return str(token["access_token"])


def client(base: str, access: str) -> tweepy.Client:
    api = tweepy.Client(bearer_token=access)
    mount(api.session, base)
    return api


# The simulator answers with `edit_history_post_ids`, the name in the current OpenAPI spec;
# tweepy still expects the older `edit_history_tweet_ids` and only warns about it.
@pytest.mark.filterwarnings("ignore:Tweet data missing default edit_history_tweet_ids")
def test_tweepy_signs_in_posts_and_reads_back(
    sim: tuple[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _ = sim
    api = client(base, user_token(base, monkeypatch))
    me = api.get_me(user_auth=False)
    assert me.data.username == "allin_creator"
    created = api.create_tweet(text="hello from tweepy", user_auth=False)
    tweet_id = created.data["id"]
    got = api.get_tweet(tweet_id, tweet_fields=["created_at", "author_id"], user_auth=False)
    assert got.data.text == "hello from tweepy" and got.data.author_id == me.data.id
    timeline = api.get_users_tweets(me.data.id, max_results=5, user_auth=False)
    assert [t.id for t in timeline.data] == [int(tweet_id)]


def test_tweepy_sees_xs_errors(sim: tuple[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    base, state = sim
    api = client(base, user_token(base, monkeypatch))
    api.create_tweet(text="once", user_auth=False)
    with pytest.raises(tweepy.Forbidden) as duplicate:
        api.create_tweet(text="once", user_auth=False)
    assert "duplicate content" in str(duplicate.value)
    with pytest.raises(tweepy.BadRequest):
        api.create_tweet(text="x" * 281, user_auth=False)
    state.faults.inject("tweets.create", "rate_limit")
    with pytest.raises(tweepy.TooManyRequests) as limited:
        api.create_tweet(text="later", user_auth=False)
    assert limited.value.reset_time is not None
    with pytest.raises(tweepy.Unauthorized):
        client(base, "not-a-token").get_me(user_auth=False)
