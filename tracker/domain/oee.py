"""OEE of a machine over a window: availability, performance, quality and every loss in seconds.

Standard library only, time passed in. The window's working time (the calendar's shifts less
breaks and holidays, up to `now`) is split by the machine's state: RUNNING is run time, a
planned-stop state (SETUP: a changeover is planned work) leaves planned production time, DOWN
and IDLE are unplanned stops, OFFLINE and any time no state covers are unknown (never run).
Parts are counted per operation, not per cycle, so an operation that crosses the window's
edge lends it the share of its parts made in the window's part of its RUNNING time.
effective + unplanned stop + unknown + performance loss + quality loss = planned production.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import NamedTuple, Protocol

RUNNING = "RUNNING"
# states whose working time is planned (outside planned production time): a changeover
PLANNED_STOP_STATES = frozenset({"SETUP"})
# states that say nothing of what the machine did: unknown, never running
UNKNOWN_STATES = frozenset({"OFFLINE"})


class WorkingClock(Protocol):
    """A calendar's working intervals in a POSIX range (`planning.calendar.WorkingTime`)."""

    def spans(self, a: float, b: float) -> list[tuple[float, float]]: ...


class StatePeriod(NamedTuple):
    """A machine in one state from `start` to `end` (None: still in it, up to `now`).

    Times here are POSIX seconds, and the two inputs tuples: a week of 100 machines is
    ~100,000 of them, read as numbers and built cheaply.
    """

    state: str
    start: float
    end: float | None = None


class PartRun(NamedTuple):
    """An operation's parts made on the machine from `start` to `end` (POSIX seconds)."""

    start: float
    end: float
    good: float
    scrap: float
    ideal_cycle_s: float


@dataclass(frozen=True)
class Oee:
    """Seconds of a window (summable over machines, shifts, lines) and the ratios they give."""

    planned_s: float = 0.0  # planned production time: working time less planned stops
    planned_stop_s: float = 0.0  # working time in a planned-stop state (not in planned_s)
    run_s: float = 0.0
    unplanned_stop_s: float = 0.0  # DOWN, IDLE (and SETUP when not declared planned)
    unknown_s: float = 0.0  # OFFLINE, or no state known
    ideal_s: float = 0.0  # the ideal time of every part made (at most run_s)
    effective_s: float = 0.0  # the ideal time of the good parts
    good: float = 0.0
    scrap: float = 0.0

    def __add__(self, other: Oee) -> Oee:
        return Oee(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Oee)))

    @property
    def performance_loss_s(self) -> float:
        return max(self.run_s - self.ideal_s, 0.0)

    @property
    def quality_loss_s(self) -> float:
        return max(self.ideal_s - self.effective_s, 0.0)

    @property
    def availability(self) -> float | None:
        return _ratio(self.run_s, self.planned_s)

    @property
    def performance(self) -> float | None:
        return _ratio(self.ideal_s, self.run_s)

    @property
    def quality(self) -> float | None:
        """Good over all parts, each weighed by its ideal cycle (good / total for one product)."""
        return _ratio(self.effective_s, self.ideal_s)

    @property
    def oee(self) -> float | None:
        """A x P x Q, which is effective time over planned production time."""
        return _ratio(self.effective_s, self.planned_s)

    def losses_s(self) -> dict[str, float]:
        """Each loss in seconds, named; with `effective_s` they add up to `planned_s`."""
        return {
            "unplanned_stop": self.unplanned_stop_s,
            "unknown": self.unknown_s,
            "performance": self.performance_loss_s,
            "quality": self.quality_loss_s,
        }


def _ratio(part: float, whole: float) -> float | None:
    return min(max(part / whole, 0.0), 1.0) if whole > 0 else None


def total(figures: Iterable[Oee]) -> Oee:
    """Figures summed as seconds (a line's OEE is not the average of its machines' OEE)."""
    return sum(figures, Oee())


class _Running:
    """A machine's RUNNING periods as sorted POSIX spans, for RUNNING seconds in any range."""

    def __init__(self, spans: list[tuple[float, float]]) -> None:
        self.starts = [s for s, _ in spans]
        self.ends = [e for _, e in spans]
        self.cum = [0.0]
        for s, e in spans:
            self.cum.append(self.cum[-1] + e - s)

    def _upto(self, x: float) -> float:
        i = bisect_left(self.ends, x)  # spans before i end at or before x
        inside = max(x - self.starts[i], 0.0) if i < len(self.starts) else 0.0
        return self.cum[i] + inside

    def between(self, a: float, b: float) -> float:
        return self._upto(b) - self._upto(a) if b > a else 0.0


def _start(p: StatePeriod) -> float:
    return p.start


def _clipped(
    states: Sequence[StatePeriod], lo: float, hi: float, now: float
) -> list[tuple[str, float, float]]:
    """States as POSIX spans in [lo, hi), in time order, never overlapping."""
    out: list[tuple[str, float, float]] = []
    cursor = lo
    # plain comparisons, not min/max: this runs once per state period of a week of machines
    for state, start, end in sorted(states, key=_start):
        e = now if end is None or end > now else end
        e = hi if e > hi else e
        s = cursor if start < cursor else start
        if e > s:
            out.append((state, s, e))
            cursor = e
    return out


def _working(spans: list[tuple[float, float]], s: float, e: float, k: int) -> tuple[float, int]:
    """Working seconds in [s, e), and where the next (later) period's search starts."""
    while k < len(spans) and spans[k][1] <= s:
        k += 1
    seconds, j = 0.0, k
    while j < len(spans) and spans[j][0] < e:
        seconds += min(e, spans[j][1]) - max(s, spans[j][0])
        j += 1
    return seconds, k


def _part_share(run: PartRun, running: _Running, lo: float, hi: float) -> float:
    """The share of an operation's parts made in [lo, hi): by its RUNNING time, else wall time."""
    ps, pe = run.start, run.end
    if pe <= ps:
        return 1.0 if lo <= ps < hi else 0.0
    a, b = max(ps, lo), min(pe, hi)
    if b <= a:
        return 0.0
    whole = running.between(ps, pe)
    return running.between(a, b) / whole if whole > 0 else (b - a) / (pe - ps)


def machine_oee(
    start: datetime,
    end: datetime,
    now: datetime,
    working: WorkingClock,
    states: Sequence[StatePeriod],
    parts: Sequence[PartRun] = (),
    planned_stops: frozenset[str] = PLANNED_STOP_STATES,
) -> Oee:
    """One machine's OEE seconds for [start, end), counted up to `now` (a live shift so far)."""
    lo, now_s = start.timestamp(), now.timestamp()
    hi = min(end.timestamp(), now_s)
    if hi <= lo:
        return Oee()
    spans = working.spans(lo, hi)
    working_s = sum(e - s for s, e in spans)
    spent: dict[str, float] = {}
    run_spans: list[tuple[float, float]] = []
    # parts are shared out by RUNNING time over their operation's whole span, not only here
    reach = min([lo, *(p.start for p in parts)])
    k = 0
    for state, s, e in _clipped(states, reach, now_s, now_s):
        if state == RUNNING:
            run_spans.append((s, e))
        if e > lo and s < hi:
            seconds, k = _working(spans, max(s, lo), min(e, hi), k)
            spent[state] = spent.get(state, 0.0) + seconds
    run_s = spent.pop(RUNNING, 0.0)
    planned_stop_s = sum(spent.pop(s, 0.0) for s in planned_stops)
    for state in UNKNOWN_STATES:
        spent.pop(state, None)  # counted below with the gaps: working time nothing explains
    unplanned_s = sum(spent.values())
    # working time no state covers (before the first event, a gap) is unknown
    unknown_s = max(working_s - run_s - planned_stop_s - unplanned_s, 0.0)
    running = _Running(run_spans)
    made = good_made = good = scrap = 0.0
    for run in parts:
        share = _part_share(run, running, lo, hi)
        good, scrap = good + share * run.good, scrap + share * run.scrap
        made += share * (run.good + run.scrap) * run.ideal_cycle_s
        good_made += share * run.good * run.ideal_cycle_s
    # a routing cycle slower than the machine really runs: performance is capped at 100%
    scale = run_s / made if made > run_s else 1.0
    return Oee(
        planned_s=working_s - planned_stop_s,
        planned_stop_s=planned_stop_s,
        run_s=run_s,
        unplanned_stop_s=unplanned_s,
        unknown_s=unknown_s,
        ideal_s=made * scale,
        effective_s=good_made * scale,
        good=good,
        scrap=scrap,
    )
