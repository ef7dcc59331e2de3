"""Which shift a report is about: the shifts a calendar starts on a local day, numbered 1, 2...

Standard library only, time passed in.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .oee_periods import Period, current_shift, shifts
from .planning.model import Calendar


def shifts_on(calendar: Calendar, day: date) -> list[Period]:
    """The shifts that start on the local `day`, in order (the day itself without shifts)."""
    tz = ZoneInfo(calendar.timezone)
    # `shifts` clips to its range: from the day before, a night shift that runs into `day`
    # keeps its own start (and is left out); one that starts on `day` ends before day + 2
    start = datetime.combine(day - timedelta(days=1), time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=2), time(0), tzinfo=tz)
    return [(a, b) for a, b in shifts(calendar, start, end) if a.astimezone(tz).date() == day]


def shift_number(calendar: Calendar, period: Period) -> tuple[date, int]:
    """The local day a shift starts on and its number that day (1 for the first)."""
    day = period[0].astimezone(ZoneInfo(calendar.timezone)).date()
    found = shifts_on(calendar, day)
    return day, (found.index(period) + 1 if period in found else 1)


class NoSuchShift(LookupError):
    """A day and number the calendar has no shift for."""


def pick_shift(
    calendar: Calendar, now: datetime, day: date | None = None, number: int | None = None
) -> Period:
    """The shift `number` (default 1) of the local `day`; without a day, the current shift or
    the last one before `now`."""
    if day is None:
        if number is not None:
            raise NoSuchShift("a shift number goes with a date")
        return current_shift(calendar, now)
    found = shifts_on(calendar, day)
    n = number or 1
    if not 1 <= n <= len(found):
        has = f"{len(found)} shift{'s' if len(found) != 1 else ''}" if found else "no shift"
        raise NoSuchShift(f"{day.isoformat()} has {has} in calendar {calendar.name}")
    return found[n - 1]
