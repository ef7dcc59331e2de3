"""The periods OEE is reported by: a calendar's shifts and local days, and the current shift."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tracker.domain.planning.model import Calendar

Period = tuple[datetime, datetime]

_DAY = timedelta(days=1)
_LOOK_BACK_DAYS = 8  # the last shift before now is at most a week (and a night) ago


def _local(t: datetime, tz: ZoneInfo) -> date:
    return t.astimezone(tz).date()


def _at(day: date, clock: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def days(calendar: Calendar, start: datetime, end: datetime) -> list[Period]:
    """The calendar's local days that meet [start, end), each clipped to it."""
    tz = ZoneInfo(calendar.timezone)
    out: list[Period] = []
    day = _local(start, tz)
    while (a := _at(day, time(0), tz)) < end:
        b = _at(day + _DAY, time(0), tz)
        if b > start:
            out.append((max(a, start), min(b, end)))
        day += _DAY
    return out


def _shifts(calendar: Calendar, first: date, last: date) -> list[Period]:
    """Every shift (breaks inside it) starting on a working local day in [first, last]."""
    tz = ZoneInfo(calendar.timezone)
    out: list[Period] = []
    day = first
    while day <= last:
        for shift in calendar.shifts if day not in calendar.holidays else ():
            if day.weekday() in shift.days:
                end_day = day if shift.end > shift.start else day + _DAY
                out.append((_at(day, shift.start, tz), _at(end_day, shift.end, tz)))
        day += _DAY
    return sorted(set(out))


def shifts(calendar: Calendar, start: datetime, end: datetime) -> list[Period]:
    """The shifts that meet [start, end), clipped to it; local days for a calendar without."""
    if not calendar.shifts:
        return days(calendar, start, end)
    tz = ZoneInfo(calendar.timezone)
    found = _shifts(calendar, _local(start, tz) - _DAY, _local(end, tz))
    return [(max(a, start), min(b, end)) for a, b in found if b > start and a < end]


def current_shift(calendar: Calendar, now: datetime) -> Period:
    """The shift `now` is in, else the last one before it; today for a calendar without shifts."""
    tz = ZoneInfo(calendar.timezone)
    if calendar.shifts:
        today = _local(now, tz)
        found = _shifts(calendar, today - timedelta(days=_LOOK_BACK_DAYS), today)
        started = [(a, b) for a, b in found if a <= now]
        inside = [(a, b) for a, b in started if now < b]
        if inside or started:
            return (inside or started)[-1]
    day = _local(now, tz)
    return _at(day, time(0), tz), _at(day + _DAY, time(0), tz)
