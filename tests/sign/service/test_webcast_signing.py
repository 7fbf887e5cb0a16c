"""The algorithm mode signs AllIN's own `webcast/im/fetch` calls, whatever TikTok host is set."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from allin.core.domain import app_state
from allin.sign.algorithm import decode_x_bogus
from allin.sign.algorithm.xbogus import double_md5_tail, user_agent_tail
from allin.sign.fetch import WebcastRequest
from allin.sign.service import SignService
from allin.sign.webcast_signing import AlgorithmWebcastSigner

UA = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0"


async def test_signs_any_configured_host() -> None:
    request = WebcastRequest(
        "http://127.0.0.1:8123/webcast/im/fetch/?room_id=7&msToken=&cursor=", {"User-Agent": UA}
    )
    signed = await AlgorithmWebcastSigner().sign(request)
    parts = urlsplit(signed.url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "http",
        "127.0.0.1:8123",
        "/webcast/im/fetch/",
    )
    query, _, bogus = parts.query.rpartition("&X-Bogus=")
    assert query.startswith("room_id=7&cursor=&msToken=") and len(query.split("msToken=")[1]) == 107
    payload = decode_x_bogus(bogus)
    assert payload.query_digest == double_md5_tail(query.encode())  # over the query as sent
    assert payload.ua_digest == user_agent_tail(UA, payload.ua_key_byte)  # bound to the UA
    assert signed.headers == request.headers


async def test_the_app_plugs_it_in(served: Callable[..., Any]) -> None:
    async with served() as (app, _):
        assert isinstance(app_state(app).get(SignService).webcast_signer, AlgorithmWebcastSigner)
    async with served(signer="upstream", sign_upstreams=[{"url": "http://127.0.0.1:9"}]) as (
        app,
        _,
    ):
        assert getattr(app.state, "webcast_signer", None) is None
