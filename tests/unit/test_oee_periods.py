"""The periods OEE is reported by: shifts, local days and the current shift."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from tracker.domain.oee_periods import current_shift, days, shifts
from tracker.domain.planning.model import ALWAYS, Calendar, Shift

WEEKDAYS = frozenset(range(5))
NIGHTS = Calendar(
    name="nights",
    timezone="Europe/Berlin",
    shifts=(Shift(WEEKDAYS, time(6), time(14)), Shift(WEEKDAYS, time(22), time(6))),
    holidays=frozenset({date(2026, 3, 4)}),
)
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)  # 07:00 in Berlin


def utc(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def test_shifts_are_clipped_to_the_window_and_skip_holidays() -> None:
    found = shifts(NIGHTS, utc(2, 6), utc(5, 6))
    assert found == [
        (utc(2, 6), utc(2, 13)),  # Monday 07:00-14:00 local (started before the window)
        (utc(2, 21), utc(3, 5)),
        (utc(3, 5), utc(3, 13)),
        (utc(3, 21), utc(4, 5)),  # Tuesday's night runs into the holiday: planned time says so
        (utc(5, 5), utc(5, 6)),  # Wednesday (a holiday) has none; Thursday morning, clipped
    ]


def test_days_are_local_days() -> None:
    assert days(NIGHTS, utc(2, 12), utc(3, 12)) == [
        (utc(2, 12), utc(2, 23)),
        (utc(2, 23), utc(3, 12)),
    ]


def test_the_current_shift_is_the_one_now_is_in_else_the_last_one() -> None:
    assert current_shift(NIGHTS, utc(2, 10)) == (utc(2, 5), utc(2, 13))
    assert current_shift(NIGHTS, utc(2, 15)) == (utc(2, 5), utc(2, 13))  # between shifts
    # Saturday noon: Friday's night shift was the last
    assert current_shift(NIGHTS, utc(7, 12)) == (utc(6, 21), utc(7, 5))


def test_a_calendar_without_shifts_reports_days() -> None:
    assert current_shift(ALWAYS, MONDAY + timedelta(hours=5)) == (
        MONDAY,
        MONDAY + timedelta(days=1),
    )
    assert shifts(ALWAYS, MONDAY, MONDAY + timedelta(hours=30)) == [
        (MONDAY, MONDAY + timedelta(days=1)),
        (MONDAY + timedelta(days=1), MONDAY + timedelta(hours=30)),
    ]
