"""Platform checks: length as each platform counts it, and trimming that always fits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from allin.ai.platforms import RULES, Platform, check, fit, measure

texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=4000
) | st.lists(
    st.sampled_from(["word", "#tag", "@you", "https://example.com/x", "漢字", "😀", " ", "\n"]),
    max_size=1500,
).map("".join)


@given(st.sampled_from(list(Platform)), texts)
def test_fit_always_fits_and_keeps_short_texts(platform: Platform, text: str) -> None:
    fitted = fit(platform, text)
    rules = RULES[platform]
    assert measure(platform, fitted) <= rules.max_length
    if rules.max_hashtags is not None:
        assert len(check(platform, fitted).hashtags) <= rules.max_hashtags
    if check(platform, text.strip()).valid:
        assert fitted == text.strip()


def test_x_weights_cjk_emoji_and_links() -> None:
    assert measure(Platform.X, "abc") == 3
    assert measure(Platform.X, "漢字") == 4
    assert measure(Platform.X, "😀") == 2
    assert measure(Platform.X, "go https://example.com/" + "x" * 200) == 3 + 23
    assert measure(Platform.INSTAGRAM, "https://example.com/" + "x" * 200) == 220


def test_checks_find_hashtags_mentions_links() -> None:
    result = check(
        Platform.INSTAGRAM, "Hi @ana_b and @leo! #bread #Lyon see https://a.io/p mail@x.com"
    )
    assert result.hashtags == ["bread", "Lyon"]
    assert result.mentions == ["ana_b", "leo"]
    assert result.links == ["https://a.io/p"]
    assert result.valid
    too_many = check(Platform.INSTAGRAM, " ".join(f"#t{i}" for i in range(31)))
    assert not too_many.valid and "31 hashtags" in too_many.problems[0]
