"""The OEE report: which machines, their figures per window or per shift/day, and the sums."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from tracker.domain.oee import Oee, machine_oee, total
from tracker.domain.oee_periods import Period, days, shifts
from tracker.domain.planning.calendar import WorkingTime
from tracker.domain.planning.model import Calendar
from tracker.domain.routing import Plant

from .oee import known_machines, oee_inputs

GroupBy = Literal["shift", "day"]


@dataclass(frozen=True)
class MachineOee:
    """One machine's figures, and where it stands."""

    machine_id: str
    work_center: str | None
    line: str | None
    figures: Oee


@dataclass(frozen=True)
class PeriodOee:
    """The machines' figures for one shift or day (each machine's own calendar says when)."""

    start: datetime
    end: datetime
    machines: list[MachineOee]


@dataclass(frozen=True)
class OeeReport:
    """Figures for the window, and per period when grouped."""

    start: datetime
    end: datetime
    as_of: datetime
    group_by: GroupBy | None
    machines: list[MachineOee]
    periods: list[PeriodOee]


def work_center_of(plant: Plant, machine: str) -> str | None:
    """The (first) work center a machine belongs to."""
    return next((wc for wc, members in plant.work_centers.items() if machine in members), None)


def sums(rows: Iterable[MachineOee], key: Callable[[MachineOee], str | None]) -> dict[str, Oee]:
    """Figures summed (as seconds) per key, rows whose key is None left out."""
    found: dict[str, list[Oee]] = {}
    for row in rows:
        name = key(row)
        if name is not None:
            found.setdefault(name, []).append(row.figures)
    return {name: total(figures) for name, figures in sorted(found.items())}


class UnknownName(LookupError):
    """A machine, work center or line the plant and the tracker do not know."""


def select_machines(
    session: Session,
    plant: Plant,
    machine: str | None = None,
    work_center: str | None = None,
    line: str | None = None,
) -> list[str]:
    """The machines matching every filter given (all known machines without any)."""
    known = known_machines(session, plant)
    if machine is not None and machine not in known:
        raise UnknownName(f"unknown machine {machine!r}")
    if work_center is not None and work_center not in plant.work_centers:
        names = ", ".join(plant.work_centers) or "none"
        raise UnknownName(f"unknown work center {work_center!r} (work centers: {names})")
    if line is not None and line not in plant.lines.values():
        names = ", ".join(sorted(set(plant.lines.values()))) or "none"
        raise UnknownName(f"unknown line {line!r} (lines: {names})")
    return [
        m
        for m in known
        if machine in (None, m)
        and (work_center is None or m in plant.work_centers[work_center])
        and line in (None, plant.lines.get(m))
    ]


def oee_report(
    session: Session,
    plant: Plant,
    machine_ids: Sequence[str],
    window: Period,
    now: datetime,
    group_by: GroupBy | None = None,
) -> OeeReport:
    """OEE of `machine_ids` over `window` (counted up to `now`), per shift or day if asked."""
    start, end = window
    inputs = oee_inputs(session, plant, machine_ids, start, min(end, now))
    clocks: dict[Calendar, WorkingTime] = {}
    whole: list[MachineOee] = []
    by_period: dict[Period, list[MachineOee]] = {}
    for m in machine_ids:
        calendar = plant.calendar_of(m)
        clock = clocks.setdefault(calendar, WorkingTime(calendar))
        got, wc, line = inputs[m], work_center_of(plant, m), plant.lines.get(m)
        cuts = [(start, end)]
        if group_by is not None:
            cuts += (shifts if group_by == "shift" else days)(calendar, start, end)
        for i, (a, b) in enumerate(cuts):
            figures = machine_oee(a, b, now, clock, got.states, got.parts)
            row = MachineOee(m, wc, line, figures)
            if i == 0:
                whole.append(row)
            else:
                by_period.setdefault((a, b), []).append(row)
    periods = [PeriodOee(a, b, rows) for (a, b), rows in sorted(by_period.items())]
    return OeeReport(start, end, now, group_by, whole, periods)
