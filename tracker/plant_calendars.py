"""Shift calendars in the plant file: weekly shifts, breaks and holidays per work center."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from tracker.domain.planning.model import Calendar, Shift


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekdays(value: Any) -> Any:
    """`mon-fri`, `[mon, wed]` or `[mon-thu, sat]` as weekday numbers (0 = Monday)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        return value
    days: list[int] = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"days are names like mon or ranges like mon-fri, not {item!r}")
        first, _, last = item.strip().lower().partition("-")
        if first not in _DAYS or (last and last not in _DAYS):
            raise ValueError(f"{item!r} is not a day or day range (mon..sun, e.g. mon-fri)")
        a, b = _DAYS.index(first), _DAYS.index(last or first)
        days += list(range(a, b + 1)) if a <= b else [*range(a, 7), *range(0, b + 1)]
    return days


class ShiftFile(_Strict):
    days: Annotated[list[Annotated[int, Field(ge=0, le=6)]], BeforeValidator(_weekdays)] = Field(
        min_length=1
    )
    start: time
    end: time


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise ValueError(f"unknown time zone {value!r} (use an IANA name: Europe/Berlin)") from None
    return value


# an IANA time zone name (the plant's and each calendar's), checked against zoneinfo
ZoneName = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_zone)]


class CalendarFile(_Strict):
    timezone: ZoneName = "UTC"
    shifts: list[ShiftFile] = Field(min_length=1)
    breaks: list[ShiftFile] = []
    holidays: list[date] = []


def _shift(shift: ShiftFile) -> Shift:
    return Shift(frozenset(shift.days), shift.start, shift.end)


def to_calendar(name: str, calendar: CalendarFile) -> Calendar:
    """The domain's calendar of a validated calendar entry."""
    return Calendar(
        name=name,
        timezone=calendar.timezone,
        shifts=tuple(map(_shift, calendar.shifts)),
        breaks=tuple(map(_shift, calendar.breaks)),
        holidays=frozenset(calendar.holidays),
    )
