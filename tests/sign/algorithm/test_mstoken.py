"""msToken: length, alphabet and reproducibility."""

from __future__ import annotations

import random
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allin.sign.algorithm.mstoken import DEFAULT_MS_TOKEN_LENGTH, MS_TOKEN_ALPHABET, ms_token


def test_default_token_has_the_documented_shape() -> None:
    # Public implementations (e.g. carcabot/tiktok-signature __tests__/utils.test.js) expect
    # 107 characters matching ^[A-Za-z0-9\-_]+$.
    token = ms_token()
    assert DEFAULT_MS_TOKEN_LENGTH == 107
    assert len(token) == 107
    assert set(token) <= set(MS_TOKEN_ALPHABET)
    assert len(MS_TOKEN_ALPHABET) == 64


def test_alphabet_is_url_safe() -> None:
    assert quote(MS_TOKEN_ALPHABET, safe="") == MS_TOKEN_ALPHABET


def test_seeded_rng_gives_reproducible_tokens() -> None:
    assert ms_token(random.Random(7)) == ms_token(random.Random(7))
    assert ms_token(random.Random(7)) != ms_token(random.Random(8))


def test_default_source_does_not_repeat() -> None:
    assert len({ms_token() for _ in range(50)}) == 50


@given(length=st.integers(min_value=1, max_value=300), seed=st.integers())
def test_any_positive_length(length: int, seed: int) -> None:
    token = ms_token(random.Random(seed), length)
    assert len(token) == length
    assert set(token) <= set(MS_TOKEN_ALPHABET)


@pytest.mark.parametrize("length", [0, -1])
def test_rejects_non_positive_length(length: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        ms_token(length=length)
