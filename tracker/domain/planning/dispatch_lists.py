"""Dispatch lists: what each machine should work next, in the order the plan runs it there."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import NamedTuple

from shopfloor.contract.payloads import DispatchJob, DispatchList

from .model import Plan, PlannedOperation

# a list that differs from the last published one only by planned times that moved less than
# this is not news: times chained from `now` slide with every replan of an idle queue
TIME_TOLERANCE_S = 60.0


class OpenOperation(NamedTuple):
    """What a dispatch list says of an operation with work left (the plan says where, when)."""

    order_id: str
    seq: int
    name: str
    left: int  # good parts still to make
    setup_s: float  # 0 once started
    cycle_s: float  # the routing's standard cycle
    ready: bool  # every earlier operation of the order is complete
    due_at: datetime


# one machine's operations in the order the plan runs them there
Queue = list[tuple[PlannedOperation, OpenOperation]]


def machine_queues(
    plan: Plan,
    operations: Iterable[OpenOperation],
    machines: Iterable[str] = (),
    max_jobs: int | None = None,
) -> dict[str, Queue]:
    """Each machine's operations in planned start order (the first `max_jobs`), for every
    machine the plan uses and every one of `machines` (empty for those with nothing planned).

    Operations with no parts left or not in the plan are left out.
    """
    queues: dict[str, Queue] = {m: [] for m in machines}
    for op in operations:
        planned = plan.operations.get((op.order_id, op.seq))
        if op.left > 0 and planned is not None:
            queues.setdefault(planned.machine, []).append((planned, op))
    return {m: sorted(queue, key=_plan_order)[:max_jobs] for m, queue in sorted(queues.items())}


def _plan_order(entry: tuple[PlannedOperation, OpenOperation]) -> tuple[datetime, str, int]:
    planned = entry[0]
    return planned.start, planned.order_id, planned.seq


def dispatch_list(machine: str, plan_made_at: datetime, queue: Queue) -> DispatchList:
    """A machine's queue as the contract's dispatch list."""
    return DispatchList(
        machine=machine,
        plan_made_at=plan_made_at,
        jobs=[
            DispatchJob(
                order_id=op.order_id,
                operation=op.seq,
                name=op.name,
                quantity=op.left,
                setup_s=op.setup_s,
                cycle_s=op.cycle_s,
                ready=op.ready,
                planned_start=planned.start,
                planned_end=planned.end,
                due_at=op.due_at,
            )
            for planned, op in queue
        ],
    )


def dispatch_lists(
    plan: Plan,
    operations: Iterable[OpenOperation],
    machines: Iterable[str] = (),
    max_jobs: int | None = None,
) -> dict[str, DispatchList]:
    """Each machine's dispatch list from the plan (see `machine_queues`)."""
    queues = machine_queues(plan, operations, machines, max_jobs)
    return {m: dispatch_list(m, plan.made_at, queue) for m, queue in queues.items()}


def changed(published: Queue | None, current: Queue, tolerance_s: float = TIME_TOLERANCE_S) -> bool:
    """Whether a machine's `current` queue is news against the one last `published` (None:
    never published): a job in or out, another order, quantity or readiness, or a planned
    start or end that moved `tolerance_s` or more (when the plan was made does not count).
    """
    if published is None or len(published) != len(current):
        return True
    return any(
        old_op != new_op
        or abs((old.start - new.start).total_seconds()) >= tolerance_s
        or abs((old.end - new.end).total_seconds()) >= tolerance_s
        for (old, old_op), (new, new_op) in zip(published, current, strict=True)
    )


def news(
    published: Mapping[str, Queue],
    current: Mapping[str, Queue],
    tolerance_s: float = TIME_TOLERANCE_S,
) -> list[str]:
    """The machines whose `current` queue changed since it was `published`."""
    return [m for m, queue in current.items() if changed(published.get(m), queue, tolerance_s)]
