"""Orders still to come, as the twin's forecast sees them: the pace of the last day's releases.

Each machine gets the operations a second released to it over the last day (an operation on a
work center counts a share on each of its machines), their mean work, and the median lead time
of those orders (release to due date): the estimator lets such orders, due before an order,
go ahead of it, as the earliest-due-date dispatcher does.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from device_sim.scenario import Scenario
from tracker.domain.foresight.estimator import MachineRisk
from tracker.domain.routing import Plant

WINDOW_S = 86400.0  # the releases that set the pace
MIN_SPAN_S = 4 * 3600.0  # early in a run, a few releases are not a whole day's pace


def arrivals(
    risks: Mapping[str, MachineRisk],
    scenario: Scenario,
    plant: Plant,
    start: datetime,
    now: datetime,
) -> dict[str, MachineRisk]:
    """`risks` with each machine's arrival pace from the orders released in the last day."""
    elapsed = (now - start).total_seconds()
    recent = [o for o in scenario.orders if elapsed - WINDOW_S <= o.at <= elapsed]
    if not recent:
        return dict(risks)
    span = max(min(elapsed, WINDOW_S), MIN_SPAN_S)
    count: dict[str, float] = defaultdict(float)
    work: dict[str, float] = defaultdict(float)
    for order in recent:
        for op in order.routing:
            machines = plant.machines_for(op.machine)
            for machine in machines:
                count[machine] += 1 / len(machines)
                work[machine] += (op.setup + order.quantity * op.cycle) / len(machines)
    lead = statistics.median(o.due - o.at for o in recent)
    return {
        m: replace(
            risk,
            arrivals_per_s=count[m] / span,
            arrival_work_s=work[m] / count[m] if count[m] else 0.0,
            arrival_lead_s=lead,
        )
        for m, risk in risks.items()
    }
