"""The pure-Python signer: msToken + X-Bogus + x-tt-params, no browser, no network."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from allin.core.clock import clock
from allin.sign.algorithm.mstoken import DEFAULT_MS_TOKEN_LENGTH, MS_TOKEN_ALPHABET, ms_token
from allin.sign.algorithm.ttparams import x_tt_params
from allin.sign.algorithm.urls import InvalidTikTokUrl, validate_tiktok_url, without_params
from allin.sign.algorithm.xbogus import (
    DEFAULT_CANVAS,
    DEFAULT_HEADER,
    EMPTY_BODY_DIGEST,
    XBogusPayload,
    double_md5_tail,
    encode_x_bogus,
    user_agent_tail,
)
from allin.sign.signers import SignedUrl

__all__ = ["AlgorithmSigner", "InvalidTikTokUrl", "validate_tiktok_url"]

DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
# Euler clients strip these before asking for a signature (TikTokLive, TikTok-Live-Connector); we
# strip them too so that re-signing a signed URL replaces rather than duplicates them.
SIGNATURE_PARAMS = frozenset({"msToken", "X-Bogus", "X-Gnarly"})
assert len(MS_TOKEN_ALPHABET) == 64
_TOKEN_TABLE = bytes(ord(MS_TOKEN_ALPHABET[b & 63]) for b in range(256))
_user_agent_tail = lru_cache(maxsize=1024)(user_agent_tail)


class AlgorithmSigner:
    """Signs TikTok URLs with the publicly documented algorithms.

    Its ``signature`` is the X-Bogus value: byted_acrawler's ``_signature`` needs TikTok's
    own script, which only the browser signer runs.

    Cheap where a server can be: X-Bogus' User-Agent part (an RC4 pass over the whole
    User-Agent) depends on the User-Agent alone, so it is remembered per User-Agent, and
    without an ``rng`` the msToken comes from one ``os.urandom`` call.
    """

    name: str = "algorithm"

    def __init__(
        self,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        canvas: int = DEFAULT_CANVAS,
        header: bytes = DEFAULT_HEADER,
        rng: random.Random | None = None,
        ms_token_length: int = DEFAULT_MS_TOKEN_LENGTH,
    ) -> None:
        if len(header) != 4:
            raise ValueError(f"header must be 4 bytes, got {len(header)}")
        self._user_agent = user_agent
        self._canvas = canvas
        self._header = bytes(header)
        self._rng = rng
        self._ms_token_length = ms_token_length

    async def ready(self) -> bool:
        return True

    async def sign_url(
        self,
        url: str,
        *,
        user_agent: str | None = None,
        now: Callable[[], float] | None = None,
    ) -> SignedUrl:
        return self.sign(url, user_agent=user_agent, now=now)

    def sign(
        self,
        url: str,
        *,
        user_agent: str | None = None,
        now: Callable[[], float] | None = None,
        token: str | None = None,
    ) -> SignedUrl:
        """Synchronous :meth:`sign_url`: appends ``msToken`` then ``X-Bogus`` to ``url``.
        ``token`` fixes the msToken."""
        parts = urlsplit(validate_tiktok_url(url))
        kept = without_params(parts.query, SIGNATURE_PARAMS)
        token = token or self._ms_token()
        query = "&".join([*kept, f"msToken={token}"])
        agent = user_agent or self._user_agent
        payload = XBogusPayload(
            header=self._header,
            query_digest=double_md5_tail(query.encode()),
            body_digest=EMPTY_BODY_DIGEST,
            ua_digest=_user_agent_tail(agent, self._header[3]),
            timestamp=int(now() if now else clock.now().timestamp()),
            canvas=self._canvas,
        )
        bogus = encode_x_bogus(payload)
        signed = urlunsplit(
            (parts.scheme, parts.netloc, parts.path, f"{query}&X-Bogus={bogus}", parts.fragment)
        )
        params = dict(parse_qsl("&".join(kept), keep_blank_values=True))
        return SignedUrl(
            signed_url=signed,
            x_bogus=bogus,
            ms_token=token,
            x_tt_params=x_tt_params(params),
            user_agent=agent,
            signature=bogus,
        )

    def _ms_token(self) -> str:
        if self._rng is not None:
            return ms_token(self._rng, self._ms_token_length)
        return fast_ms_token(self._ms_token_length)


def fast_ms_token(length: int = DEFAULT_MS_TOKEN_LENGTH) -> str:
    """A random msToken from one `os.urandom` call (the alphabet has 64 characters, so
    `byte & 63` is uniform)."""
    if length < 1:
        raise ValueError(f"msToken length must be positive, got {length}")
    return os.urandom(length).translate(_TOKEN_TABLE).decode("ascii")
