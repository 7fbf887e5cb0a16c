"""The algorithm signer for the service's hot path: the same signatures as `AlgorithmSigner`,
made cheaper where a server can be. X-Bogus' User-Agent part (an RC4 pass over the whole
User-Agent) depends on the User-Agent alone, so it is remembered per User-Agent; msToken comes
from one `os.urandom` call (the alphabet has 64 characters, so `byte & 63` is uniform).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from allin.core.clock import clock
from allin.sign.algorithm.mstoken import DEFAULT_MS_TOKEN_LENGTH, MS_TOKEN_ALPHABET
from allin.sign.algorithm.signer import DEFAULT_USER_AGENT, SIGNATURE_PARAMS, AlgorithmSigner
from allin.sign.algorithm.ttparams import x_tt_params
from allin.sign.algorithm.urls import validate_tiktok_url, without_params
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

assert len(MS_TOKEN_ALPHABET) == 64
_TOKEN_TABLE = bytes(ord(MS_TOKEN_ALPHABET[b & 63]) for b in range(256))
_user_agent_tail = lru_cache(maxsize=1024)(user_agent_tail)


def fast_ms_token(length: int = DEFAULT_MS_TOKEN_LENGTH) -> str:
    return os.urandom(length).translate(_TOKEN_TABLE).decode("ascii")


class FastAlgorithmSigner(AlgorithmSigner):
    name: str = "algorithm"

    def __init__(self, *, user_agent: str = DEFAULT_USER_AGENT) -> None:
        super().__init__(user_agent=user_agent)

    def sign(
        self,
        url: str,
        *,
        user_agent: str | None = None,
        now: Callable[[], float] | None = None,
        token: str | None = None,
    ) -> SignedUrl:
        """As `AlgorithmSigner.sign`; ``token`` fixes the msToken (tests compare the two)."""
        parts = urlsplit(validate_tiktok_url(url))
        kept = without_params(parts.query, SIGNATURE_PARAMS)
        token = token or fast_ms_token()
        query = "&".join([*kept, f"msToken={token}"])
        agent = user_agent or DEFAULT_USER_AGENT
        payload = XBogusPayload(
            header=DEFAULT_HEADER,
            query_digest=double_md5_tail(query.encode()),
            body_digest=EMPTY_BODY_DIGEST,
            ua_digest=_user_agent_tail(agent, DEFAULT_HEADER[3]),
            timestamp=int(now() if now else clock.now().timestamp()),
            canvas=DEFAULT_CANVAS,
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
