"""`is_ascii_digits`: what `int()` will take, and nothing else that looks like a digit."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allin.core.text import is_ascii_digits


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", True),
        ("7479624884048980283", True),
        ("", False),
        ("²", False),
        ("١٢", False),
        ("12a", False),
        (" 1", False),
        ("-1", False),
    ],
)
def test_examples(value: str, expected: bool) -> None:
    assert is_ascii_digits(value) is expected


@given(st.text(max_size=12))
def test_true_means_int_accepts_it_unchanged(value: str) -> None:
    if is_ascii_digits(value):
        assert str(int(value)).lstrip("0") == value.lstrip("0")
    else:
        assert not value or any(c not in "0123456789" for c in value)
