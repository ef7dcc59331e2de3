"""Working-time arithmetic on shift calendars: next working instant, adding and counting work.

Shifts and breaks are local wall-clock times in the calendar's time zone, converted to UTC day
by day with zoneinfo: a 06:00-14:00 shift is 8 h on a DST day too, while a 22:00-06:00 night
shift over the spring-forward night is 7 h of real time (and 9 h in autumn). A wall-clock time
that does not exist (in the spring-forward gap) maps as zoneinfo maps it with fold=0. A holiday
removes the whole local date, including the part of a night shift that runs into it.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left, bisect_right
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracker.domain.planning.model import Calendar, Shift

_CHUNK_DAYS = 28  # intervals are generated four weeks at a time, when a query reaches them
_GIVE_UP_S = 731 * 86400.0  # two years without working time: the calendar never works
_DAY = timedelta(days=1)

Span = tuple[float, float]


class WorkingTime:
    """One calendar's working intervals in POSIX seconds, generated lazily, searched by bisect.

    Not thread-safe: a scheduler run builds its own; the module functions share guarded ones.
    """

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self.always = calendar.always
        try:
            self._tz = ZoneInfo(calendar.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"calendar {calendar.name!r}: unknown time zone {calendar.timezone!r}"
            ) from exc
        for shift in calendar.shifts + calendar.breaks:
            if not shift.days <= frozenset(range(7)):
                raise ValueError(f"calendar {calendar.name!r}: days must be 0 (Mon) to 6 (Sun)")
        self._starts: list[float] = []
        self._ends: list[float] = []
        self._cum: list[float] = []  # working seconds from the origin to each start
        self._cum_end: list[float] = []
        self._next_day = date.min
        # nothing generated yet: the first query sets the origin, a week before itself
        self._lo = self._hi = math.inf

    def next(self, x: float) -> float:
        """The first working instant at or after `x` (POSIX seconds)."""
        if self.always:
            return x
        if x < self._lo:
            self._reset(x)
        while True:
            i = bisect_right(self._ends, x)
            if i < len(self._ends):
                start = self._starts[i]
                return start if start > x else x
            self._extend(x, x)

    def add(self, x: float, seconds: float) -> float:
        """When `seconds` of working time starting at `x` have elapsed (work pauses off shift)."""
        if self.always:
            return x + seconds
        if seconds <= 0.0:
            return x
        i, position = self._locate(x)
        target = position + seconds
        while True:
            # from interval i on: a tiny `seconds` may not move `target` off an earlier end
            j = bisect_left(self._cum_end, target, i)
            if j < len(self._cum_end):
                return self._starts[j] + (target - self._cum[j])
            self._extend(x, self._ends[-1] if self._ends else x)

    def between(self, a: float, b: float) -> float:
        """Working seconds in [a, b); 0 when b is not after a."""
        if b <= a:
            return 0.0
        if self.always:
            return b - a
        pos_a = self._locate(a)[1]
        return self._locate(b)[1] - pos_a

    def spans(self, a: float, b: float) -> list[Span]:
        """The working intervals in [a, b), clipped to it, in time order."""
        if b <= a:
            return []
        if self.always:
            return [(a, b)]
        self._locate(a)
        self._locate(b)  # generated through b, from an origin before a
        i = bisect_right(self._ends, a)
        found: list[Span] = []
        while i < len(self._starts) and self._starts[i] < b:
            found.append((max(self._starts[i], a), min(self._ends[i], b)))
            i += 1
        return found

    def _locate(self, x: float) -> tuple[int, float]:
        # the interval at or after x, and the working seconds from the origin to x
        if x < self._lo:
            self._reset(x)
        while self._hi <= x:
            self._extend(x, x)
        i = bisect_right(self._ends, x)
        if i < len(self._ends):
            start = self._starts[i]
            return i, (self._cum[i] + (x - start) if start <= x else self._cum[i])
        return i, self._cum_end[-1] if self._cum_end else 0.0

    def _reset(self, x: float) -> None:
        # start over a week before x: queries go forward from there
        first = datetime.fromtimestamp(x, self._tz).date() - timedelta(days=7)
        self._starts, self._ends, self._cum, self._cum_end = [], [], [], []
        self._next_day = first
        self._lo = self._hi = self._midnight(first)

    def _extend(self, query: float, since: float) -> None:
        if self._hi - max(query, since) > _GIVE_UP_S:
            at = datetime.fromtimestamp(query, UTC).isoformat()
            raise ValueError(
                f"calendar {self.calendar.name!r} has no working time in the two years after {at}"
            )
        d0 = self._next_day
        d1 = d0 + timedelta(days=_CHUNK_DAYS)
        for start, end in self._generate(d0, d1):
            if self._ends and self._ends[-1] == start:
                # adjacent to the previous chunk's last interval: one interval, not two
                self._ends[-1] = end
                self._cum_end[-1] += end - start
                continue
            done = self._cum_end[-1] if self._cum_end else 0.0
            self._starts.append(start)
            self._cum.append(done)
            self._cum_end.append(done + end - start)
            self._ends.append(end)
        self._next_day = d1
        self._hi = self._midnight(d1)

    def _generate(self, d0: date, d1: date) -> list[Span]:
        # a shift or break starting the day before d0 may run into it
        cal = self.calendar
        lo, hi = self._midnight(d0), self._midnight(d1)
        base = self._shift_spans(cal.shifts, d0 - _DAY, d1) if cal.shifts else [(lo, hi)]
        cuts = self._shift_spans(cal.breaks, d0 - _DAY, d1)
        cuts += [
            (self._midnight(h), self._midnight(h + _DAY)) for h in cal.holidays if d0 <= h < d1
        ]
        spans = _subtract(_merge(base), _merge(cuts))
        return [(max(s, lo), min(e, hi)) for s, e in spans if e > lo and s < hi]

    def _shift_spans(self, shifts: tuple[Shift, ...], d0: date, d1: date) -> list[Span]:
        spans: list[Span] = []
        day = d0
        while day < d1:
            weekday = day.weekday()
            for shift in shifts:
                if weekday in shift.days:
                    end_day = day if shift.end > shift.start else day + _DAY
                    start = datetime.combine(day, shift.start, tzinfo=self._tz).timestamp()
                    end = datetime.combine(end_day, shift.end, tzinfo=self._tz).timestamp()
                    if end > start:
                        spans.append((start, end))
            day += _DAY
        return spans

    def _midnight(self, day: date) -> float:
        return datetime.combine(day, time(0), tzinfo=self._tz).timestamp()


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _subtract(spans: list[Span], cuts: list[Span]) -> list[Span]:
    # both sorted and merged; a sweep keeps what no cut covers
    out: list[Span] = []
    k = 0
    for start, end in spans:
        while k < len(cuts) and cuts[k][1] <= start:
            k += 1
        j = k
        while j < len(cuts) and cuts[j][0] < end:
            if cuts[j][0] > start:
                out.append((start, cuts[j][0]))
            start = max(start, cuts[j][1])
            j += 1
        if start < end:
            out.append((start, end))
    return out


@lru_cache(maxsize=128)
def _shared(calendar: Calendar) -> tuple[WorkingTime, threading.Lock]:
    return WorkingTime(calendar), threading.Lock()


def _seconds(t: datetime, name: str) -> float:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {t!r}")
    return t.timestamp()


def next_working(cal: Calendar, t: datetime) -> datetime:
    """The first working instant at or after `t` (t itself when it is working), in UTC."""
    x = _seconds(t, "t")
    if cal.always:
        return t.astimezone(UTC)
    wt, lock = _shared(cal)
    with lock:
        return datetime.fromtimestamp(wt.next(x), UTC)


def add_working(cal: Calendar, t: datetime, seconds: float) -> datetime:
    """The instant (UTC) when `seconds` of working time starting at `t` have elapsed."""
    x = _seconds(t, "t")
    if cal.always:
        return t.astimezone(UTC) + timedelta(seconds=max(seconds, 0.0))
    wt, lock = _shared(cal)
    with lock:
        return datetime.fromtimestamp(wt.add(x, seconds), UTC)


def working_seconds(cal: Calendar, a: datetime, b: datetime) -> float:
    """Working seconds between `a` and `b` (0 when b is not after a)."""
    xa, xb = _seconds(a, "a"), _seconds(b, "b")
    if cal.always:
        return max(xb - xa, 0.0)
    wt, lock = _shared(cal)
    with lock:
        return wt.between(xa, xb)


def off_shift(cal: Calendar, a: datetime, b: datetime) -> list[tuple[datetime, datetime]]:
    """The non-working intervals (off shift, breaks, holidays) in [a, b), in UTC, in order."""
    xa, xb = _seconds(a, "a"), _seconds(b, "b")
    if cal.always or xb <= xa:
        return []
    wt, lock = _shared(cal)
    with lock:
        working = wt.spans(xa, xb)
    gaps, at = [], xa
    for start, end in [*working, (xb, xb)]:
        if start > at:
            gaps.append((datetime.fromtimestamp(at, UTC), datetime.fromtimestamp(start, UTC)))
        at = max(at, end)
    return gaps


def off_shift_kind(cal: Calendar, a: datetime, b: datetime) -> str:
    """What the non-working interval [a, b) mostly is, judged at its middle: `holiday`,
    `break` (within a shift) or `off shift`."""
    middle = a + (b - a) / 2
    if middle.astimezone(ZoneInfo(cal.timezone)).date() in cal.holidays:
        return "holiday"
    shifts = Calendar(cal.name, cal.timezone, cal.shifts)
    if cal.shifts and next_working(shifts, middle) == middle.astimezone(UTC):
        return "break"
    return "off shift"
