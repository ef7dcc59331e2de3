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
