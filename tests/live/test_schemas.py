"""Username normalisation shared by the API, the CLI and the dashboard."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from allin.live.schemas import USERNAME_PATTERN, UsernameBody, normalise_username


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("demo_streamer", "demo_streamer"),
        ("@Demo.Streamer", "demo.streamer"),
        ("  @abc  ", "abc"),
        ("https://www.tiktok.com/@Some_One/live", "some_one"),
        ("tiktok.com/@x.y", "x.y"),
    ],
)
def test_accepted_forms(raw: str, expected: str) -> None:
    assert normalise_username(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["a", "a" * 25, "bad name", "https://www.tiktok.com/@ab\n/live", "ab\u00b2", "é1", ""],
)
def test_refused_forms(raw: str) -> None:
    with pytest.raises(ValueError):
        normalise_username(raw)


@given(st.text(max_size=40))
def test_result_is_always_a_plain_handle(raw: str) -> None:
    try:
        name = normalise_username(raw)
    except ValueError:
        return
    assert 2 <= len(name) <= 24
    assert all(c in "abcdefghijklmnopqrstuvwxyz0123456789_." for c in name)


@given(st.text(max_size=60) | st.from_regex(USERNAME_PATTERN, fullmatch=True))
def test_the_documented_pattern_is_the_rule(raw: str) -> None:
    """What OpenAPI says (the pattern) is what the API accepts, in both regex engines."""
    documented = re.fullmatch(USERNAME_PATTERN, raw) is not None and len(raw) <= 200
    try:
        UsernameBody.model_validate({"username": raw})
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted == documented


@pytest.mark.parametrize("raw", ["ab\x00", "\x00ab", "ab\n", "\tab\r", "tiktok.com/@ab/\x00"])
def test_control_characters_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        normalise_username(raw)
