"""Wall times in IANA zones across daylight-saving transitions, and a zone 14 hours ahead."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allin.posts.errors import AmbiguousTimeError, InvalidTimezoneError, NonexistentTimeError
from allin.posts.scheduling import next_free_slot, to_local, to_utc, zone


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("zone_name", "gap"),
    [
        ("Europe/Berlin", datetime(2026, 3, 29, 2, 30)),
        ("America/New_York", datetime(2026, 3, 8, 2, 30)),
    ],
)
def test_a_time_skipped_by_spring_forward_is_refused(zone_name: str, gap: datetime) -> None:
    with pytest.raises(NonexistentTimeError) as raised:
        to_utc(gap, zone_name)
    assert "does not exist" in raised.value.message
    with pytest.raises(NonexistentTimeError):
        to_utc(gap, zone_name, fold=1)  # no choice makes it exist


@pytest.mark.parametrize(
    ("zone_name", "repeated", "first", "second"),
    [
        (
            "Europe/Berlin",
            datetime(2026, 10, 25, 2, 30),
            utc(2026, 10, 25, 0, 30),
            utc(2026, 10, 25, 1, 30),
        ),
        (
            "America/New_York",
            datetime(2026, 11, 1, 1, 30),
            utc(2026, 11, 1, 5, 30),
            utc(2026, 11, 1, 6, 30),
        ),
    ],
)
def test_a_time_repeated_by_fall_back_needs_a_choice(
    zone_name: str, repeated: datetime, first: datetime, second: datetime
) -> None:
    with pytest.raises(AmbiguousTimeError) as raised:
        to_utc(repeated, zone_name)
    assert raised.value.details["choices"] == {"0": first.isoformat(), "1": second.isoformat()}
    assert to_utc(repeated, zone_name, fold=0) == first
    assert to_utc(repeated, zone_name, fold=1) == second


def test_the_hours_around_transitions_map_exactly() -> None:
    assert to_utc(datetime(2026, 3, 29, 1, 59), "Europe/Berlin") == utc(2026, 3, 29, 0, 59)
    assert to_utc(datetime(2026, 3, 29, 3, 0), "Europe/Berlin") == utc(2026, 3, 29, 1, 0)
    assert to_utc(datetime(2026, 3, 8, 3, 0), "America/New_York") == utc(2026, 3, 8, 7, 0)


def test_a_zone_fourteen_hours_ahead_of_utc() -> None:
    # Kiritimati is UTC+14: its Monday morning is Sunday afternoon in UTC.
    assert to_utc(datetime(2026, 12, 7, 9, 0), "Pacific/Kiritimati") == utc(2026, 12, 6, 19, 0)
    local = to_local(utc(2026, 12, 6, 10, 30), "Pacific/Kiritimati")
    assert (local.day, local.hour, local.minute) == (7, 0, 30)
    slot = next_free_slot([(0, 9 * 60, "Pacific/Kiritimati")], set(), utc(2026, 12, 6, 12, 0))
    assert slot == utc(2026, 12, 6, 19, 0)
    taken = next_free_slot([(0, 9 * 60, "Pacific/Kiritimati")], {slot}, utc(2026, 12, 6, 12, 0))
    assert taken == utc(2026, 12, 13, 19, 0)


def test_a_weekly_slot_keeps_its_wall_time_across_dst() -> None:
    slots = [(6, 10 * 60, "Europe/Berlin")]  # Sundays 10:00
    before = next_free_slot(slots, set(), utc(2026, 10, 20, 0, 0))
    after = next_free_slot(slots, {before} if before else set(), utc(2026, 10, 20, 0, 0))
    assert before == utc(2026, 10, 25, 9, 0)  # CEST ended at 03:00 that morning -> CET
    assert before is not None and after == utc(2026, 11, 1, 9, 0)
    assert next_free_slot(slots, set(), utc(2026, 10, 10, 0, 0)) == utc(2026, 10, 11, 8, 0)


@pytest.mark.parametrize(
    "name", ["", "CET+1", "+02:00", "../../etc/passwd", "Mars/Olympus", "utc "]
)
def test_only_tz_database_names_are_zones(name: str) -> None:
    with pytest.raises(InvalidTimezoneError):
        zone(name)


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31)),
    st.sampled_from(["Europe/Berlin", "America/New_York", "Pacific/Kiritimati", "Asia/Kolkata"]),
)
def test_every_accepted_wall_time_round_trips(local: datetime, zone_name: str) -> None:
    local = local.replace(microsecond=0)
    for fold in (0, 1):
        try:
            instant = to_utc(local, zone_name, fold)
        except NonexistentTimeError:
            return
        assert to_local(instant, zone_name).replace(tzinfo=None) == local
