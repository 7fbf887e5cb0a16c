"""Durations in config: "15m", "24h", "7d", bare seconds or milliseconds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from allin.core.config import Settings
from allin.core.units import parse_duration

UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("1w", timedelta(weeks=1)),
        ("500ms", timedelta(milliseconds=500)),
        (" 90 S ", timedelta(seconds=90)),
        ("1.5h", timedelta(minutes=90)),
        ("3600", timedelta(hours=1)),
        (60, timedelta(minutes=1)),
        (timedelta(days=2), timedelta(days=2)),
    ],
)
def test_parse(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["", "0", "-5m", "15 minutes", "m", "1y", None, True, "7d7d"])
def test_rejects(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(sorted(UNITS)))
def test_any_number_and_unit(number: int, unit: str) -> None:
    assert parse_duration(f"{number}{unit}").total_seconds() == pytest.approx(number * UNITS[unit])


def test_settings_follow_the_seed(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        jwt_expires_in="24h", refresh_token_expires_in="7d", session_max_age="604800000"
    )
    assert settings.jwt_expires_in == timedelta(hours=24)
    assert settings.refresh_token_expires_in == timedelta(days=7)
    assert settings.session_max_age == timedelta(days=7)  # bare number = milliseconds
    with pytest.raises(ValidationError):
        make_settings(jwt_expires_in="soon")
    with pytest.raises(ValidationError):
        make_settings(rate_limit_login_ip="lots")
