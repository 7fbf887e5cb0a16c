"""The signer's hot path (User-Agent part remembered, msToken from one `os.urandom` call)
gives exactly what the X-Bogus algorithm gives."""

from __future__ import annotations

import random
from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from allin.sign.algorithm import AlgorithmSigner, decode_x_bogus, x_bogus
from allin.sign.algorithm.mstoken import MS_TOKEN_ALPHABET, ms_token
from allin.sign.algorithm.signer import fast_ms_token

SIGNER = AlgorithmSigner()
QUERY_TEXT = st.text("abcxyz0189=&%-._~", max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    query=QUERY_TEXT,
    agent=st.text(min_size=1, max_size=200),
    timestamp=st.integers(min_value=0, max_value=2**32 - 1),
    seed=st.integers(),
)
def test_same_signature_as_the_algorithm(query: str, agent: str, timestamp: int, seed: int) -> None:
    url = f"https://www.tiktok.com/api/x/?{query}&msToken=old&X-Bogus=old"
    seeded = AlgorithmSigner(rng=random.Random(seed))
    token = ms_token(random.Random(seed))
    expected = seeded.sign(url, user_agent=agent, now=lambda: timestamp)
    signed = SIGNER.sign(url, user_agent=agent, now=lambda: timestamp, token=token)
    assert signed == expected
    signed_query = urlsplit(signed.signed_url).query.rsplit("&X-Bogus=", 1)[0]
    assert signed.x_bogus == x_bogus(signed_query, agent, timestamp=timestamp)


def test_ms_tokens_are_uniform_over_the_alphabet() -> None:
    tokens = [fast_ms_token() for _ in range(400)]
    assert all(len(t) == 107 and set(t) <= set(MS_TOKEN_ALPHABET) for t in tokens)
    seen = set("".join(tokens))
    assert seen == set(MS_TOKEN_ALPHABET)  # 42,800 draws reach all 64 characters
    assert len(set(tokens)) == 400


def test_user_agent_part_is_remembered_per_user_agent() -> None:
    first = SIGNER.sign("https://www.tiktok.com/", user_agent="Agent/1", now=lambda: 1)
    second = SIGNER.sign("https://www.tiktok.com/", user_agent="Agent/2", now=lambda: 1)
    again = SIGNER.sign("https://www.tiktok.com/", user_agent="Agent/1", now=lambda: 1)
    ua = [decode_x_bogus(s.x_bogus).ua_digest for s in (first, second, again)]
    assert ua[0] == ua[2] != ua[1]
