"""Which shift a report is about: shifts numbered per local day, the current one by default."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from tracker.domain.planning.model import ALWAYS, Calendar, Shift
from tracker.domain.shift_pick import NoSuchShift, pick_shift, shift_number, shifts_on

WEEKDAYS = frozenset(range(5))
# a day shift and a night shift that runs past midnight, in Berlin (UTC+1 in March)
THREE = Calendar(
    "three",
    "Europe/Berlin",
    (Shift(WEEKDAYS, time(6), time(14)), Shift(WEEKDAYS, time(22), time(6))),
)


def utc(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def test_the_shifts_of_a_day_are_those_that_start_on_it_in_its_zone() -> None:
    assert shifts_on(THREE, date(2026, 3, 2)) == [(utc(2, 5), utc(2, 13)), (utc(2, 21), utc(3, 5))]
    assert shifts_on(THREE, date(2026, 3, 7)) == []  # a Saturday
    assert shifts_on(ALWAYS, date(2026, 3, 7)) == [(utc(7, 0), utc(8, 0))]


def test_the_default_is_the_shift_now_is_in_else_the_last_one() -> None:
    assert pick_shift(THREE, utc(3, 2)) == (utc(2, 21), utc(3, 5))  # the night shift
    assert pick_shift(THREE, utc(2, 15)) == (utc(2, 5), utc(2, 13))  # between shifts
    assert shift_number(THREE, (utc(2, 21), utc(3, 5))) == (date(2026, 3, 2), 2)


def test_a_day_and_number_pick_that_shift_or_say_what_the_day_has() -> None:
    assert pick_shift(THREE, utc(9, 0), date(2026, 3, 2), 2) == (utc(2, 21), utc(3, 5))
    assert pick_shift(THREE, utc(9, 0), date(2026, 3, 2)) == (utc(2, 5), utc(2, 13))
    with pytest.raises(NoSuchShift, match="2026-03-02 has 2 shifts in calendar three"):
        pick_shift(THREE, utc(9, 0), date(2026, 3, 2), 3)
    with pytest.raises(NoSuchShift, match="has no shift"):
        pick_shift(THREE, utc(9, 0), date(2026, 3, 7))
    with pytest.raises(NoSuchShift, match="goes with a date"):
        pick_shift(THREE, utc(9, 0), None, 1)
