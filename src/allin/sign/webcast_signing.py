"""Signing the requests AllIN itself sends to TikTok's webcast host (the fetch endpoints).

Those URLs come from configuration (TikTok's hosts, or a simulator in tests), not from
callers, so they are not held to the tiktok.com-only rule the public sign API enforces.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from allin.sign.algorithm.signer import DEFAULT_USER_AGENT, AlgorithmSigner
from allin.sign.fetch import WebcastRequest

_STAND_IN_HOST = "www.tiktok.com"


def sign_configured_url(signer: AlgorithmSigner, url: str, user_agent: str) -> str:
    """``url`` with msToken and X-Bogus, whatever its host: X-Bogus covers the query string and
    the User-Agent only, so the query is signed on a stand-in TikTok URL and put back."""
    parts = urlsplit(url)
    stand_in = urlunsplit(("https", _STAND_IN_HOST, parts.path or "/", parts.query, ""))
    signed_query = urlsplit(signer.sign(stand_in, user_agent=user_agent).signed_url).query
    return urlunsplit((parts.scheme, parts.netloc, parts.path, signed_query, parts.fragment))


class AlgorithmWebcastSigner:
    """The `WebcastSigner` of the `algorithm` mode: msToken + X-Bogus, bound to the request's
    User-Agent (which the client must then use on the WebSocket too)."""

    name = "algorithm"

    def __init__(self, signer: AlgorithmSigner | None = None) -> None:
        self.signer = signer or AlgorithmSigner()

    async def sign(self, request: WebcastRequest) -> WebcastRequest:
        agent = request.headers.get("User-Agent") or DEFAULT_USER_AGENT
        return WebcastRequest(
            sign_configured_url(self.signer, request.url, agent), dict(request.headers)
        )
