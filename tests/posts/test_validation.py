"""Content rules: X's weighted length against twitter-text v3's published cases, and
properties of the validator for every platform."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allin.core.config import Settings
from allin.core.errors import AppError
from allin.posts.rules import rules_for
from allin.posts.validation import Code, validate
from allin.social.providers.base import ContentRules, MediaItem, MediaKind, Platform
from allin.social.providers.instagram import InstagramProvider
from allin.social.text.utf16 import utf16_length
from allin.social.text.x_weight import weighted_length
from tests.posts.provider import composed_rules

RULES: dict[Platform, ContentRules] = {platform: composed_rules(platform) for platform in Platform}


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("", 0),
        ("hello", 5),
        ("a" * 280, 280),
        ("こんにちは", 10),  # CJK weighs 2
        ("😀", 2),  # one emoji, 2
        ("👨‍👩‍👧‍👦", 2),  # a ZWJ family is one emoji
        ("👍🏽", 2),  # with a skin tone
        ("🇩🇪", 2),  # a flag: two regional indicators
        ("1️⃣", 2),  # keycap
        ("https://example.com/a/very/long/path/that/goes/on/and/on", 23),
        ("see https://example.com.", 4 + 23 + 1),
        ("café", 4),  # NFC: e + combining acute is one code point
        ("cafe\u0301", 4),
        ("\u2018quoted\u2019", 8),  # general punctuation is light
        ("€", 2),
        ("©", 2),  # an emoji to twitter-text
        ("☺\ufe0f", 2),  # emoji presentation: one emoji
        ("go to example.com now", 6 + 23 + 4),  # a bare domain is a URL
        ("example.com.", 23 + 1),  # the final dot is not part of it
        ("a.b", 3),  # not a domain
    ],
)
def test_weighted_length_conformance(text: str, length: int) -> None:
    assert weighted_length(text) == length


@given(
    st.text(
        alphabet=st.characters(
            max_codepoint=0x10FF, exclude_categories=("Cs",), exclude_characters="©®.#*"
        )
    )
)
def test_light_text_counts_one_per_code_point_without_urls(text: str) -> None:
    """No dot, so no URL; no keycap base; no (c)/(R), which are emoji."""
    assert weighted_length(text) == len(unicodedata.normalize("NFC", text))


@given(st.text(), st.text())
def test_weighted_length_is_additive_across_a_space(left: str, right: str) -> None:
    whole = weighted_length(f"{left} {right}")
    assert whole <= weighted_length(left) + 1 + weighted_length(right) + 23


@given(st.text(alphabet="abc 😀漢", max_size=400))
def test_the_x_limit_problem_appears_exactly_when_over_280(text: str) -> None:
    verdict = validate(text, [], RULES[Platform.X])
    over = [p for p in verdict.problems if p.code == Code.TEXT_TOO_LONG]
    assert bool(over) == (verdict.length > 280)
    if over:
        assert f"{verdict.length}" in over[0].message and "280" in over[0].message


@given(st.integers(min_value=0, max_value=60))
def test_instagram_hashtag_cap_is_configurable(count: int) -> None:
    settings = Settings(_env_file=None, posts_instagram_max_hashtags=5)  # type: ignore[call-arg]
    rules = composed_rules(Platform.INSTAGRAM, settings)
    photo = MediaItem(
        path=__import__("pathlib").Path("x"), mime_type="image/jpeg", kind=MediaKind.IMAGE,
        size_bytes=1000, width=1080, height=1080,
    )  # fmt: skip
    text = " ".join(f"#tag{i}" for i in range(count))
    codes = [p.code for p in validate(text, [photo], rules).problems]
    assert (Code.TOO_MANY_HASHTAGS in codes) == (count > 5)


@pytest.mark.parametrize(
    ("platform", "limit"),
    [(Platform.LINKEDIN, 3000), (Platform.FACEBOOK, 63206), (Platform.INSTAGRAM, 2200)],
)
def test_text_limits(platform: Platform, limit: int) -> None:
    rules = RULES[platform]
    assert validate("a" * limit, [], rules).length == limit
    codes = [p.code for p in validate("a" * (limit + 1), [], rules).problems]
    assert Code.TEXT_TOO_LONG in codes


def _video(**kw: object) -> MediaItem:
    values: dict[str, object] = {
        "path": __import__("pathlib").Path("v.mp4"),
        "mime_type": "video/mp4",
        "kind": MediaKind.VIDEO,
        "size_bytes": 10_000,
        "width": 1080,
        "height": 1920,
        "duration_seconds": 30.0,
        "frame_rate": 30.0,
    }
    values.update(kw)
    return MediaItem(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("item", "code"),
    [
        (_video(duration_seconds=1.0), Code.VIDEO_DURATION),
        (_video(duration_seconds=700.0), Code.VIDEO_DURATION),
        (_video(frame_rate=120.0), Code.FRAME_RATE),
        (_video(size_bytes=5 * 1024**3), Code.MEDIA_TOO_LARGE),
        (_video(mime_type="video/x-msvideo"), Code.MEDIA_TYPE),
    ],
)
def test_tiktok_media_rules(item: MediaItem, code: str) -> None:
    verdict = validate("caption", [item], RULES[Platform.TIKTOK])
    assert [p.code for p in verdict.problems] == [code]
    assert verdict.problems[0].media_index == 0


def test_a_good_tiktok_video_passes_and_two_do_not() -> None:
    rules = RULES[Platform.TIKTOK]
    assert validate("caption", [_video()], rules).ok
    assert [p.code for p in validate("", [_video(), _video()], rules).problems] == [
        Code.TOO_MANY_MEDIA
    ]
    assert [p.code for p in validate("", [], RULES[Platform.X]).problems] == [Code.EMPTY]


def test_the_operator_caps_apply_over_the_provider_rules() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, posts_instagram_max_hashtags=5, posts_instagram_max_mentions=3
    )
    rules = composed_rules(Platform.INSTAGRAM, settings)
    assert (rules.max_hashtags, rules.max_mentions) == (5, 3)
    assert rules.text_limit == InstagramProvider.rules.text_limit == 2200
    assert RULES[Platform.INSTAGRAM].max_hashtags == 30  # the API's documented cap by default


@pytest.mark.parametrize(
    ("platform", "limit"),
    [
        (Platform.X, 280),
        (Platform.LINKEDIN, 3000),
        (Platform.FACEBOOK, 63206),
        (Platform.INSTAGRAM, 2200),
        (Platform.TIKTOK, 2200),
    ],
)
def test_each_platform_limit_is_its_documented_one(platform: Platform, limit: int) -> None:
    assert RULES[platform].text_limit == limit


def test_tiktok_counts_the_caption_in_utf16_units() -> None:
    rules = RULES[Platform.TIKTOK]
    assert rules.measure("😀" * 1100) == 2200
    assert [p.code for p in validate("😀" * 1101, [_video()], rules).problems] == [
        Code.TEXT_TOO_LONG
    ]


@given(st.text())
def test_utf16_length_matches_the_encoded_length(text: str) -> None:
    assert utf16_length(text) == len(text.encode("utf-16-le", "surrogatepass")) // 2


def test_a_platform_without_a_provider_has_no_rules() -> None:
    with pytest.raises(AppError) as raised:
        rules_for(Platform.TIKTOK, None)
    assert raised.value.code == "SOCIAL_009"
