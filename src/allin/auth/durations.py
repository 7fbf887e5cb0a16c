"""Durations in config as the seed writes them: "15m", "24h", "7d", "500ms" or bare numbers."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator

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
# ... or milliseconds (SESSION_MAX_AGE="604800000" in seed 004).
MillisDuration = Annotated[timedelta, BeforeValidator(_millis)]
