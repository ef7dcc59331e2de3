"""Each machine's queue for a plan, from the open operations read as plain rows."""

from __future__ import annotations

from collections.abc import Iterable

from tracker.domain.planning.dispatch_lists import OpenOperation, Queue, machine_queues
from tracker.domain.planning.model import Plan
from tracker.domain.routing import Plant

from .unit_of_work import PlanningReads, PlanningSessions


def dispatch_inputs(reads: PlanningReads) -> tuple[list[OpenOperation], set[str]]:
    """The open operations as dispatch lists show them, and every machine the tracker has
    heard from."""
    due = reads.open_due_dates()
    operations = [
        OpenOperation(
            order_id=row.order_id,
            seq=row.seq,
            name=row.name,
            left=row.quantity - row.good_qty,
            setup_s=0.0 if row.started_at is not None else row.setup_s,
            cycle_s=row.cycle_s,
            ready=i == 0,  # completed operations are not read: the first one is next
            due_at=due[order_id],
        )
        for order_id, rows in reads.open_operations().items()
        if order_id in due
        for i, row in enumerate(rows)
    ]
    return operations, reads.machine_ids()


def read_machine_queues(
    reads: PlanningSessions,
    plant: Plant,
    plan: Plan,
    also: Iterable[str] = (),
    max_jobs: int | None = None,
) -> dict[str, Queue]:
    """The queue of every machine of the plant, the database, the plan and `also` (machines
    told before: an empty queue tells one its work moved away)."""
    with reads() as opened:
        operations, machines = dispatch_inputs(opened)
    return machine_queues(plan, operations, {*plant.machines, *machines, *also}, max_jobs)
