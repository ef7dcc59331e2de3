"""What-if on the live plant: plan the open orders again with hypothetical changes, forecast
both plans, and say which orders change status; the real plan is never touched."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tracker.domain.foresight.estimator import Forecast, forecast
from tracker.domain.foresight.what_if import Change, apply, check, status_of
from tracker.domain.planning.dispatching_rules import schedule
from tracker.domain.routing import Plant

from .foresight import Foresight
from .planning import PlanningPolicy, planning_inputs
from .unit_of_work import PlanningSessions


@dataclass(frozen=True)
class OrderOutcome:
    """One order before and after the changes."""

    order_id: str
    due_at: datetime
    before: Forecast | None
    after: Forecast | None
    status_before: str
    status_after: str

    @property
    def changed(self) -> bool:
        return self.status_before != self.status_after


def what_if(
    reads: PlanningSessions,
    plant: Plant,
    now: datetime,
    policy: PlanningPolicy,
    foresight: Foresight,
    changes: Sequence[Change],
    at_risk_below: float,
) -> list[OrderOutcome]:
    """Every open order (and rush order) with its forecast now and with `changes` made;
    raises UnknownTargets when a change names a machine or an order the plant does not have."""
    with reads() as opened:
        jobs, machines = planning_inputs(opened, plant, now, policy)
        states = {row.machine_id: row.state for row in opened.machine_rows()}
    check(jobs, machines, changes)
    risks = {m: foresight.risks_of(m, s, now) for m, s in states.items()}
    for m in machines:
        if m.machine_id not in risks:
            risks[m.machine_id] = foresight.policy.prior(m.machine_id)
    samples = max(foresight.policy.samples, 100)
    seed = int(now.timestamp())
    base = schedule(jobs, machines, now, policy.rule)
    changed_jobs, changed_machines = apply(jobs, machines, now, changes)
    hypothetical = schedule(changed_jobs, changed_machines, now, policy.rule)
    due = {job.order_id: job.due_at for job in changed_jobs}
    spread = foresight.policy.queue_cv
    before = forecast(base, due, risks, now, samples, seed, spread)
    after = forecast(hypothetical, due, risks, now, samples, seed, spread)
    return [
        OrderOutcome(
            order_id,
            due_at,
            before.get(order_id),
            after.get(order_id),
            status_of(before.get(order_id), due_at, at_risk_below),
            status_of(after.get(order_id), due_at, at_risk_below),
        )
        for order_id, due_at in sorted(due.items())
    ]
