"""Whatever a client sends to the publishing endpoints, the simulators answer with the
platform's 4xx, never a 500 of their own (real platforms answer bad input with 4xx too)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allin.simulator.social.linkedin import LinkedInConfig, create_linkedin_simulator
from allin.simulator.social.linkedin.state import Grant as LinkedInGrant
from allin.simulator.social.meta import MetaConfig, create_meta_simulator
from allin.simulator.social.x import XConfig, create_x_simulator
from allin.simulator.social.x.state import Grant as XGrant

_KEYS = [
    "text",
    "media",
    "media_ids",
    "reply",
    "in_reply_to_tweet_id",
    "poll",
    "options",
    "duration_minutes",
    "reply_settings",
    "quote_tweet_id",
    "author",
    "commentary",
    "content",
    "multiImage",
    "images",
    "id",
    "message",
    "link",
    "published",
    "scheduled_publish_time",
    "attached_media",
    "media_fbid",
    "image_url",
    "video_url",
    "media_type",
    "is_carousel_item",
    "caption",
    "children",
    "creation_id",
    "upload_type",
    "x",
]
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "text",
                    "media",
                    "media_ids",
                    "reply",
                    "poll",
                    "author",
                    "commentary",
                    "content",
                    "message",
                    "published",
                    "children",
                    "creation_id",
                    "x",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=12,
)
_quick = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Limits high enough that validation, not throttling, answers every example.
X_APP = create_x_simulator(XConfig(user_limits={"tweets.create": 10**9}))
X_TOKEN = str(
    X_APP.state.sim.issue(
        XGrant("2244994945", ("tweet.read", "tweet.write", "users.read", "media.write"))
    )["access_token"]
)
LI_APP = create_linkedin_simulator(LinkedInConfig(daily_member_limit=10**9))
LI_TOKEN = LI_APP.state.sim.issue_access(
    LinkedInGrant("aB3dE5fG7h", ("w_member_social", "r_member_social"), 0.0, 1e12)
).value
META_APP = create_meta_simulator(MetaConfig(buc_calls_per_day=10**9, fetch_urls=False))
_user = META_APP.state.sim.mint_token(
    "USER",
    "10158000000000001",
    (
        "pages_show_list",
        "pages_read_engagement",
        "pages_manage_posts",
        "instagram_basic",
        "instagram_content_publish",
    ),
    5_184_000,
)
META_TOKEN = META_APP.state.sim.page_token(_user, "104000000000001").value


def _status(app: Any, method: str, path: str, body: object, headers: dict[str, str]) -> int:
    async def call() -> int:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
            response = await http.request(
                method,
                path,
                content=json.dumps(body).encode(),
                headers={"content-type": "application/json", **headers},
            )
            return response.status_code

    return asyncio.run(call())


_x_post = st.fixed_dictionaries(
    {"text": st.just("hello") | _json},
    optional={k: _json for k in ("media", "reply", "poll", "reply_settings", "quote_tweet_id")},
)


@_quick
@given(_json | _x_post)
def test_x_create_post(body: object) -> None:
    status = _status(X_APP, "POST", "/2/tweets", body, {"Authorization": f"Bearer {X_TOKEN}"})
    assert status < 500


_linkedin_post = st.fixed_dictionaries(
    {
        "author": st.just("urn:li:person:aB3dE5fG7h") | _json,
        "commentary": st.text(max_size=30) | _json,
        "visibility": st.just("PUBLIC") | _json,
        "distribution": st.just({"feedDistribution": "MAIN_FEED"}) | _json,
        "lifecycleState": st.just("PUBLISHED") | _json,
    },
    optional={"content": _json},
)


@_quick
@given(_json | _linkedin_post)
def test_linkedin_create_post(body: object) -> None:
    headers = {"Authorization": f"Bearer {LI_TOKEN}", "LinkedIn-Version": "202611"}
    assert _status(LI_APP, "POST", "/rest/posts", body, headers) < 500


@_quick
@given(
    _json,
    st.sampled_from(
        [
            "/v25.0/104000000000001/feed",
            "/v25.0/17841400000000001/media",
            "/v25.0/17841400000000001/media_publish",
        ]
    ),
)
def test_meta_publishing_edges(body: object, path: str) -> None:
    headers = {"Authorization": f"Bearer {META_TOKEN}"}
    assert _status(META_APP, "POST", path, body, headers) < 500
