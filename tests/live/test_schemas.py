"""Username normalisation shared by the API, the CLI and the dashboard."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allin.live.schemas import normalise_username


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
