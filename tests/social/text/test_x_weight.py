# ruff: noqa: RUF001 - the conformance texts are full of look-alike punctuation on purpose
"""X's weighted length against twitter-text's v3 conformance cases, and its properties."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allin.social.text.x_weight import (
    MAX_WEIGHTED_LENGTH,
    URL_WEIGHT,
    code_point_weight,
    is_valid,
    url_spans,
    weighted_length,
)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
KANA = "あいうえおかきくけこ"
POEM = (
    "故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。朱雀桥边野草花，乌衣巷口夕阳斜。"
    "旧时王谢堂前燕，飞入寻常百姓家。朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。"
    "泪湿罗巾梦不成，夜深前殿按歌声。红颜未老恩先断，斜倚薰笼坐到明。独在异乡为异客，每逢佳节倍思亲。"
    "遥知兄弟登高处，遍插茱萸少一人。"
)
FILLER = "xxxxxxxxxx-" * 24

# (text, weighted length) from twitter-text's conformance/validate.yml (v3 configuration).
CONFORMANCE = [
    ("This is a test.", 15),
    ("http://test.com", 23),
    ("https://test.com", 23),
    ("test.com", 23),
    ("Test https://test.com test https://test.com test.com test", 86),
    ("285 chars-" + FILLER + "xxxxxxxxxx-", 285),
    ("285 chars- http://www.twitter.com/jack " + FILLER, 299),
    (FILLER + " http://www.twitter.com/jack ", 289),
    ("https://www.twitter.com/aloha " * 10, 240),
    (POEM, 320),
    ("the" + POEM, 323),
    ("\U0001f637" * 160, 320),
    ("A\u0301B", 2),
    (FAMILY * 140, 280),
    ("Unicode 10.0 emoji: \U0001f92a; \U0001f9d5; \U0001f9d5\U0001f3fe; " + ENGLAND, 34),
    ("Unicode 9.0 emoji: \U0001f920; \U0001f483; \U0001f483\U0001f3fe", 29),
    ("randomurlrandomurlrandomurlrandomurlrandomurlrandomurlrandomurls.com", 68),
    (KANA * 12 + " http://" + KANA * 5 + "あいう.com", 358),
    (KANA * 12 + " http://" + KANA * 5 + "あい.com", 264),
    ("ABC\u202a\uffffABC\ufffe", 12),
    ("\u2066\u202ahttp://foobar.\u067e\u0627\u06a9\u0633\u062a\u0627\u0646/\u202c\u2069", 31),
    ("\U0001f637\U0001f47e\U0001f621\U0001f525\U0001f4a9", 10),
    ("\U0001f64b\U0001f3fd\U0001f468\u200d\U0001f3a4", 4),
]


@pytest.mark.parametrize(("text", "expected"), CONFORMANCE)
def test_conformance(text: str, expected: int) -> None:
    assert weighted_length(text) == expected


def test_general_punctuation_weighs_one() -> None:
    text = (
        "This is a tweet with general punctuation characters: "
        "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u200c\u200d"
        " ‐ ‑ ‒ – — ― ‖  ‗ ‘ ’ ‚ ‛ “ ” „ ‟ ′ ″ ‴ ‵ ‶ ‷"
    )
    assert weighted_length(text) == 112


def test_validity_at_the_limit() -> None:
    assert is_valid("a" * MAX_WEIGHTED_LENGTH) and not is_valid("a" * (MAX_WEIGHTED_LENGTH + 1))
    assert not is_valid("   ") and is_valid("界" * 140) and not is_valid("界" * 141)


def test_url_edges() -> None:
    assert url_spans("see https://example.com/a.") == [(4, 25)]
    assert url_spans("(https://example.com/x)") == [(1, 22)]
    assert url_spans("version 9.0 and file.txt") == []
    assert url_spans("me@example.com") == []


# Hypothesis: the weights are additive, bounded and insensitive to how the text is encoded.

LATIN = st.text(alphabet=st.characters(max_codepoint=0x10FF, exclude_categories=("Cs",)))


@given(st.text())
def test_length_is_bounded_by_twice_the_code_points(text: str) -> None:
    normalized = unicodedata.normalize("NFC", text)
    assert (
        0
        <= weighted_length(text)
        <= max(2 * len(normalized), 0) + URL_WEIGHT * len(url_spans(normalized))
    )


@given(st.text())
def test_normalization_does_not_change_the_length(text: str) -> None:
    assert weighted_length(text) == weighted_length(unicodedata.normalize("NFD", text))


@given(st.text(alphabet="abc xyz0123456789", max_size=60), st.text(alphabet="abc xyz", max_size=60))
def test_plain_text_concatenates(left: str, right: str) -> None:
    assert weighted_length(left + " " + right) == weighted_length(left) + 1 + weighted_length(right)


@given(
    st.lists(
        st.sampled_from(["https://example.com/p", "http://t.co/x", "www.allin.dev"]), max_size=6
    )
)
def test_every_url_weighs_23_whatever_its_length(found: list[str]) -> None:
    assert weighted_length(" ".join(found)) == URL_WEIGHT * len(found) + max(0, len(found) - 1)


@given(st.integers(min_value=0, max_value=0x10FFFF).filter(lambda cp: not 0xD800 <= cp <= 0xDFFF))
def test_code_point_weights_are_one_or_two(cp: int) -> None:
    assert code_point_weight(cp) in (1, 2)
    assert (code_point_weight(cp) == 1) == (
        cp <= 0x10FF or 0x2000 <= cp <= 0x200D or 0x2010 <= cp <= 0x201F or 0x2032 <= cp <= 0x2037
    )


@given(st.integers(min_value=1, max_value=140))
def test_emoji_sequences_weigh_two_each(count: int) -> None:
    assert weighted_length(FAMILY * count) == 2 * count
    assert weighted_length("\U0001f44d\U0001f3fd" * count) == 2 * count
