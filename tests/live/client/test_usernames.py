"""Username normalisation: every accepted spelling gives the bare handle; junk is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allin.core.errors import AppError
from allin.live.errors import InvalidUsernameError
from allin.live.usernames import normalize_username

handles = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_.", min_size=1, max_size=24)
spaces = st.text(alphabet=" \t\n", max_size=3)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("demo_streamer", "demo_streamer"),
        ("@Demo_Streamer", "demo_streamer"),
        ("  @name  ", "name"),
        ("https://www.tiktok.com/@name/live", "name"),
        ("https://www.tiktok.com/@name", "name"),
        ("http://tiktok.com/@some.one/live?lang=en#x", "some.one"),
        ("www.tiktok.com/@name/live", "name"),
        ("m.tiktok.com/@name", "name"),
        ("@name/live", "name"),
        ("https://www.tiktok.com/%40name/live", "name"),
    ],
)
def test_accepted_spellings(value: str, expected: str) -> None:
    assert normalize_username(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "@",
        "two words",
        "na-me",
        "x" * 25,
        "https://evil.example/@name/live",
        "https://www.tiktok.com/live",
        "https://www.tiktok.com/@/live",
        "émile",
    ],
)
def test_invalid_is_a_typed_error(value: str) -> None:
    with pytest.raises(InvalidUsernameError) as info:
        normalize_username(value)
    assert isinstance(info.value, AppError)
    assert info.value.code == "LIVE_INVALID_USERNAME"
    assert info.value.status_code == 400


@given(handle=handles, before=spaces, after=spaces, at=st.booleans(), upper=st.booleans())
def test_handle_spellings_round_trip(
    handle: str, before: str, after: str, at: bool, upper: bool
) -> None:
    text = ("@" if at else "") + (handle.upper() if upper else handle)
    assert normalize_username(before + text + after) == handle


@given(
    handle=handles,
    host=st.sampled_from(["www.tiktok.com", "tiktok.com", "m.tiktok.com"]),
    scheme=st.sampled_from(["https://", "http://", ""]),
    suffix=st.sampled_from(["", "/", "/live", "/live?enter_from_merge=others", "?lang=en"]),
)
def test_urls_give_the_handle(handle: str, host: str, scheme: str, suffix: str) -> None:
    assert normalize_username(f"{scheme}{host}/@{handle}{suffix}") == handle


@given(st.text(max_size=64))
def test_never_raises_anything_but_the_typed_error(value: str) -> None:
    try:
        result = normalize_username(value)
    except InvalidUsernameError:
        return
    assert result == result.strip().lower()
    assert 1 <= len(result) <= 24
    assert normalize_username(result) == result
