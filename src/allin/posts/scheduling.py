"""Wall-clock times in a user's IANA zone, turned into UTC without silent shifts.

A local time skipped by a spring-forward transition does not exist; one repeated by a
fall-back transition happens twice. Both are refused unless the caller says which instant it
means (`fold`, as PEP 495 defines it: 0 the first occurrence, 1 the second).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from allin.posts.errors import AmbiguousTimeError, InvalidTimezoneError, NonexistentTimeError


def zone(name: str) -> ZoneInfo:
    """The zone named `name` from the tz database; an error for anything else (offsets,
    abbreviations and paths are not zones)."""
    if not name or name.startswith(("/", ".")) or ".." in name or name not in _zones():
        raise InvalidTimezoneError(f"{name!r} is not an IANA time zone (e.g. Europe/Berlin)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidTimezoneError(f"{name!r} is not an IANA time zone") from None


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones()) | {"UTC"}
    return _ZONES


def to_utc(local: datetime, zone_name: str, fold: int | None = None) -> datetime:
    """The UTC instant of the wall time `local` (naive) in `zone_name`. An aware `local`
    is taken as the instant it names."""
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    tz = zone(zone_name)
    first = local.replace(tzinfo=tz, fold=0)
    second = local.replace(tzinfo=tz, fold=1)
    if _round_trips(first) is False and _round_trips(second) is False:
        raise NonexistentTimeError(
            f"{local:%Y-%m-%d %H:%M} does not exist in {zone_name} (the clocks jump forward); "
            f"choose a time before {_gap_start(first):%H:%M} or from {_gap_end(first):%H:%M}",
            details={"timezone": zone_name, "local_time": local.isoformat()},
        )
    if first.utcoffset() != second.utcoffset():
        if fold is None:
            raise AmbiguousTimeError(
                f"{local:%Y-%m-%d %H:%M} happens twice in {zone_name} (the clocks go back); "
                "send fold=0 for the first or fold=1 for the second",
                details={
                    "timezone": zone_name,
                    "local_time": local.isoformat(),
                    "choices": {
                        "0": first.astimezone(UTC).isoformat(),
                        "1": second.astimezone(UTC).isoformat(),
                    },
                },
            )
        return (second if fold else first).astimezone(UTC)
    return first.astimezone(UTC)


def _round_trips(value: datetime) -> bool:
    back = value.astimezone(UTC).astimezone(value.tzinfo)
    return back.replace(tzinfo=None) == value.replace(tzinfo=None)


def _gap_start(value: datetime) -> datetime:
    return value.replace(minute=0)


def _gap_end(value: datetime) -> datetime:
    return value.replace(fold=1).astimezone(UTC).astimezone(value.tzinfo)


def to_local(instant: datetime, zone_name: str) -> datetime:
    return instant.astimezone(zone(zone_name))


def next_free_slot(
    slots: Iterable[tuple[int, int, str]],
    taken: set[datetime],
    after: datetime,
    horizon_days: int = 56,
) -> datetime | None:
    """The first weekly slot (weekday Monday=0, minute of the local day, zone) strictly after
    `after` whose UTC instant is not already taken; a slot that falls in a DST gap moves to
    the wall time after the gap (the slot is a habit, not a promise), and a repeated hour
    takes its first occurrence."""
    candidates: list[datetime] = []
    for weekday, minute, zone_name in slots:
        tz = zone(zone_name)
        local_after = after.astimezone(tz)
        day = local_after.date()
        for offset in range(horizon_days + 1):
            date = day + timedelta(days=offset)
            if date.weekday() != weekday:
                continue
            wall = datetime(date.year, date.month, date.day, minute // 60, minute % 60)
            instant = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
            if instant > after and instant not in taken:
                candidates.append(instant)
                break
    return min(candidates) if candidates else None
