"""Settings value types: durations ("15m", "24h", "7d", "500ms" or bare numbers) and rate
limits ("5/minute", "1000 per hour"), checked when the settings load."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache
from typing import Annotated

from limits import RateLimitItem, parse
from pydantic import AfterValidator, BeforeValidator

_UNITS = {
    "ms": 0.001,
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 604800,
}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$", re.IGNORECASE)


def parse_duration(value: object, *, bare_unit: str = "s") -> timedelta:
    """A positive duration from "90s", "15m", "24h", "7d", "1w", "500ms", a number
    (in `bare_unit`), or a timedelta. Raises ValueError otherwise."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value) * _UNITS[bare_unit]
    elif isinstance(value, str):
        match = _PATTERN.match(value)
        if match is None:
            raise ValueError(f"not a duration: {value!r} (use e.g. 15m, 24h, 7d)")
        number, unit = match.groups()
        seconds = float(number) * _UNITS[(unit or bare_unit).lower()]
    else:
        raise ValueError(f"not a duration: {value!r}")
    if seconds <= 0:
        raise ValueError("duration must be positive")
    return timedelta(seconds=seconds)


def _seconds(value: object) -> timedelta:
    return parse_duration(value, bare_unit="s")


def _millis(value: object) -> timedelta:
    return parse_duration(value, bare_unit="ms")


# Bare numbers mean seconds (JWT_EXPIRES_IN style) ...
Duration = Annotated[timedelta, BeforeValidator(_seconds)]
# ... or milliseconds (SESSION_MAX_AGE="604800000", as Express sessions count).
MillisDuration = Annotated[timedelta, BeforeValidator(_millis)]


@lru_cache(maxsize=256)
def parse_limit(limit: str) -> RateLimitItem:
    """ "5/minute", "1000 per hour", "3/10 seconds" -> a limits item (ValueError if malformed)."""
    return parse(limit)


def _check_limit(value: str) -> str:
    parse_limit(value)
    return value


# A settings field type: a malformed limit fails at start-up, not at the first request.
RateLimitString = Annotated[str, AfterValidator(_check_limit)]
