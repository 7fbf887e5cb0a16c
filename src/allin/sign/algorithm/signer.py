"""The pure-Python signer: msToken + X-Bogus + x-tt-params, no browser, no network."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from allin.sign.algorithm.mstoken import DEFAULT_MS_TOKEN_LENGTH, ms_token
from allin.sign.algorithm.ttparams import x_tt_params
from allin.sign.algorithm.urls import InvalidTikTokUrl, validate_tiktok_url, without_params
from allin.sign.algorithm.xbogus import DEFAULT_CANVAS, DEFAULT_HEADER, x_bogus
from allin.sign.signers import SignedUrl

__all__ = ["AlgorithmSigner", "InvalidTikTokUrl", "validate_tiktok_url"]

DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
# Euler clients strip these before asking for a signature (reference §1.3, §2.3); we
# strip them too so that re-signing a signed URL replaces rather than duplicates them.
SIGNATURE_PARAMS = frozenset({"msToken", "X-Bogus", "X-Gnarly"})


class AlgorithmSigner:
    """Signs TikTok URLs with the publicly documented algorithms.

    Its ``signature`` is the X-Bogus value: byted_acrawler's ``_signature`` needs TikTok's
    own script, which only the browser signer runs.
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
    ) -> SignedUrl:
        """Synchronous :meth:`sign_url`: appends ``msToken`` then ``X-Bogus`` to ``url``."""
        parts = urlsplit(validate_tiktok_url(url))
        kept = without_params(parts.query, SIGNATURE_PARAMS)
        token = ms_token(self._rng, self._ms_token_length)
        query = "&".join([*kept, f"msToken={token}"])
        agent = user_agent or self._user_agent
        timestamp = int((now or time.time)())
        bogus = x_bogus(query, agent, timestamp=timestamp, canvas=self._canvas, header=self._header)
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
