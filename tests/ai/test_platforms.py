"""Platform checks against the providers' content rules: length as each platform counts it,
caps, and trimming that always fits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import async_sessionmaker

from allin.ai.platforms import HASHTAG_RE, MENTION_RE, check, fit
from allin.ai.service import AiService
from allin.core.config import Settings
from allin.social.errors import PlatformUnavailableError
from allin.social.providers.base import ContentRules, Platform
from tests.posts.provider import composed_rules

RULES: dict[Platform, ContentRules] = {platform: composed_rules(platform) for platform in Platform}
TIGHT = ContentRules(text_limit=40, max_hashtags=2, max_mentions=1)

texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=4000
) | st.lists(
    st.sampled_from(["word", "#tag", "@you", "https://example.com/x", "漢字", "😀", " ", "\n"]),
    max_size=1500,
).map("".join)


@given(st.sampled_from([*RULES.values(), TIGHT]), texts)
def test_fit_always_fits_and_keeps_short_texts(rules: ContentRules, text: str) -> None:
    fitted = fit(rules, text)
    result = check(Platform.X, rules, fitted)
    assert rules.measure(fitted) <= rules.text_limit
    if rules.max_hashtags is not None:
        assert len(HASHTAG_RE.findall(fitted)) <= rules.max_hashtags
    if rules.max_mentions is not None:
        assert len(MENTION_RE.findall(fitted)) <= rules.max_mentions
    assert result.length == rules.measure(fitted)
    if check(Platform.X, rules, text.strip()).valid:
        assert fitted == text.strip()


def test_each_platform_counts_as_it_does() -> None:
    x, instagram, tiktok = RULES[Platform.X], RULES[Platform.INSTAGRAM], RULES[Platform.TIKTOK]
    assert x.measure("abc") == 3
    assert x.measure("漢字") == 4
    assert x.measure("😀") == 2
    assert x.measure("go https://example.com/" + "x" * 200) == 3 + 23
    assert instagram.measure("https://example.com/" + "x" * 200) == 220
    assert tiktok.measure("😀") == 2  # UTF-16 runes


def test_removing_a_tag_over_the_cap_never_uncovers_another() -> None:
    assert fit(TIGHT, "a #b #c #d#e") == "a #b #c"


def test_checks_find_hashtags_mentions_links() -> None:
    instagram = RULES[Platform.INSTAGRAM]
    result = check(
        Platform.INSTAGRAM,
        instagram,
        "Hi @ana_b and @leo! #bread #Lyon see https://a.io/p mail@x.com",
    )
    assert result.hashtags == ["bread", "Lyon"]
    assert result.mentions == ["ana_b", "leo"]
    assert result.links == ["https://a.io/p"]
    assert result.valid
    too_many = check(Platform.INSTAGRAM, instagram, " ".join(f"#t{i}" for i in range(31)))
    assert not too_many.valid and "31 hashtags" in too_many.problems[0]
    assert result.max_length == 2200 and result.max_hashtags == 30


class OnlyX:
    def content_rules(self, platform: Platform) -> ContentRules | None:
        return RULES[Platform.X] if platform is Platform.X else None


def test_the_service_reads_each_platform_rules_through_its_port() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    service = AiService(settings, async_sessionmaker(), providers=[], platform_rules=OnlyX())
    assert service.rules(Platform.X) is RULES[Platform.X]
    with pytest.raises(PlatformUnavailableError):
        service.rules(Platform.LINKEDIN)
    unwired = AiService(settings, async_sessionmaker(), providers=[])
    with pytest.raises(PlatformUnavailableError):
        unwired.rules(Platform.X)
