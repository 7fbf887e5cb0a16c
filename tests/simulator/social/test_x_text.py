"""X's weighted length as the simulator counts it (twitter-text configuration v3)."""

from __future__ import annotations

import unicodedata
import warnings

import pytest
from hypothesis import given, settings
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
        ("\u00a9", 2),  # © is an emoji to twitter-text
        ("read news.bbc.co.uk", 5 + 23),
        ("file.txt", 8),  # not a top-level domain
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


# --- twitter-text-parser (an independent implementation of twitter-text v3) as the judge ---

_VOCABULARY = [
    "hello",
    "world",
    "é",
    "漢字",
    "あいう",
    "👍",
    "👍🏽",
    "👨\u200d👩\u200d👧",
    "🇫🇷",
    "1\ufe0f\u20e3",
    "❤\ufe0f",
    "©",
    "®",
    "™",
    "\u2026",
    "\u2014",
    "it\u2019s",
    "https://example.com/path",
    "http://a.b.co/x?y=1",
    "example.com",
    "www.example.org",
    "t.co/abc",
    "x.io",
    "end.",
    "(see",
    "this)",
    "@user",
    "#tag",
    "$AAPL",
    "3.14",
    "e.g.",
    "U.S.",
    "google.de",
    "bit.ly/xyz",
    "news.bbc.co.uk",
    "my.app",
    "site.shop",
    "mail@example.com",
    "https://example.com/path.",
    "(https://example.com)",
    "file.txt",
]
# Outside URL, mention and cashtag syntax; CR is left out because the judge counts CR LF as one.
_SYNTAX = "./:@\uff20#\uff03$\r"
_plain = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=_SYNTAX),
    max_size=60,
)


def _judge(text: str) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from twitter_text import parse_tweet

        return int(parse_tweet(text).weightedLength)


@settings(max_examples=300)
@given(_plain)
def test_agrees_with_twitter_text_on_any_plain_text(text: str) -> None:
    assert weighted_length(text) == _judge(text)


@settings(max_examples=300)
@given(st.lists(st.sampled_from(_VOCABULARY), min_size=1, max_size=12))
def test_agrees_with_twitter_text_on_urls_emoji_and_cjk(words: list[str]) -> None:
    text = " ".join(words)
    assert weighted_length(text) == _judge(text)
