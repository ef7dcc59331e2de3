"""What-if: hypothetical disruptions and decisions applied to the planner's inputs (pure).

A machine down for a while, a work center working around the clock (an extra shift), a rush
order, an order's priority raised: each changes the jobs or machines the scheduler is given,
never the real plan. `status_of` says what a forecast means for an order: late when half of
its likely outcomes miss the due date, at risk when P(on time) is below the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from tracker.domain.planning.model import ALWAYS, PlanJob, PlanMachine

from .estimator import Forecast


@dataclass(frozen=True)
class MachineDown:
    """A machine stops now and is back after `for_s`."""

    machine: str
    for_s: float


@dataclass(frozen=True)
class ExtraShift:
    """These machines work around the clock (their shift calendar lifted)."""

    machines: tuple[str, ...]


@dataclass(frozen=True)
class RaisePriority:
    order_id: str
    priority: int


@dataclass(frozen=True)
class RushOrder:
    """A new order, planned with the others (booked nowhere)."""

    job: PlanJob


Change = MachineDown | ExtraShift | RaisePriority | RushOrder


class UnknownTargets(ValueError):
    """Changes that name a machine or an order the plant does not have: (change index, why)."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        super().__init__("; ".join(why for _, why in problems))
        self.problems = problems


def check(
    jobs: Sequence[PlanJob], machines: Sequence[PlanMachine], changes: Sequence[Change]
) -> None:
    """Raise UnknownTargets when a change names no machine or open order of the plant (an
    answer computed without it would read as "nothing changes"), or a rush order reuses an id."""
    known = {m.machine_id for m in machines}
    orders = {j.order_id for j in jobs}
    problems: list[tuple[int, str]] = []
    for k, change in enumerate(changes):
        match change:
            case MachineDown(machine, _) if machine not in known:
                problems.append((k, f"no machine {machine!r} in the plant"))
            case ExtraShift(names) if not set(names) <= known:
                missing = ", ".join(sorted(set(names) - known))
                problems.append((k, f"no machine {missing!r} in the plant"))
            case RaisePriority(order_id, _) if order_id not in orders:
                problems.append((k, f"no open order {order_id!r}"))
            case RushOrder(job) if job.order_id in orders:
                problems.append(
                    (k, f"order {job.order_id!r} exists already: name the rush order anew")
                )
            case RushOrder(job):
                orders.add(job.order_id)
    if problems:
        raise UnknownTargets(problems)


def apply(
    jobs: Sequence[PlanJob],
    machines: Sequence[PlanMachine],
    now: datetime,
    changes: Sequence[Change],
) -> tuple[list[PlanJob], list[PlanMachine]]:
    """The planner's inputs with `changes` made; unknown machines or orders change nothing."""
    out_jobs, out_machines = list(jobs), list(machines)
    for change in changes:
        match change:
            case MachineDown(machine, for_s):
                back = now + timedelta(seconds=for_s)
                out_machines = [
                    replace(m, available_at=max(back, m.available_at or back))
                    if m.machine_id == machine
                    else m
                    for m in out_machines
                ]
            case ExtraShift(names):
                out_machines = [
                    replace(m, calendar=ALWAYS) if m.machine_id in names else m
                    for m in out_machines
                ]
            case RaisePriority(order_id, priority):
                out_jobs = [
                    replace(j, priority=priority) if j.order_id == order_id else j for j in out_jobs
                ]
            case RushOrder(job):
                out_jobs.append(job)
    return out_jobs, out_machines


def status_of(forecast: Forecast | None, due_at: datetime, at_risk_below: float) -> str:
    """on_track, at_risk or late, as the forecast has it (unknown: on_track)."""
    if forecast is None:
        return "on_track"
    if forecast.p50 > due_at:
        return "late"
    return "at_risk" if forecast.p_on_time < at_risk_below else "on_track"
