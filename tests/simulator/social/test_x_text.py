"""X's weighted length as the simulator counts it (twitter-text configuration v3)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allin.simulator.social.x.text import cashtags, weighted_length

_latin = st.text(alphabet=st.sampled_from(list("abcdefghij XYZ,!?éü")), max_size=80)
_cjk = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=80)
_path = st.text(alphabet=st.sampled_from(list("abcdefghijklmnop0123456789-")), max_size=300)


@given(_latin)
def test_latin_text_weighs_one_per_character(text: str) -> None:
    assert weighted_length(text) == len(unicodedata.normalize("NFC", text))


@given(_cjk)
def test_cjk_weighs_two_per_character(text: str) -> None:
    assert weighted_length(text) == 2 * len(text)


@given(_latin, _path, _latin)
def test_any_url_weighs_23(before: str, path: str, after: str) -> None:
    text = f"{before} https://example.com/{path} {after}"
    assert weighted_length(text) == weighted_length(before) + 23 + 2 + weighted_length(after)


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("e\u0301", 1),  # NFC makes one code point in the light range
        ("👍", 2),
        ("👍🏽", 2),  # skin-tone modifier
        ("👨\u200d👩\u200d👧", 2),  # ZWJ family
        ("🇫🇷", 2),  # flag
        ("1\ufe0f\u20e3", 2),  # keycap
        ("❤\ufe0f", 2),
        ("\u2026", 2),  # the ellipsis lies outside every light range
        ("\u2014", 1),  # em dash: U+2010-201F
        ("\u3042", 2),  # hiragana
        ("visit example.com now", 6 + 23 + 4),
        ("see https://t.co/x.", 4 + 23 + 1),
    ],
)
def test_known_weights(text: str, weight: int) -> None:
    assert weighted_length(text) == weight


def test_cashtags() -> None:
    assert cashtags("$AAPL and $TSLA") == ["$AAPL", "$TSLA"]
    assert cashtags("costs $5 or US$10") == []
