"""Each machine's queue for a plan, from the open operations read as plain rows."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tracker.adapters import orm
from tracker.domain.model import OPEN_STATUSES
from tracker.domain.planning.dispatch_lists import OpenOperation, Queue, machine_queues
from tracker.domain.planning.model import Plan
from tracker.domain.routing import Plant

from .order_checks import open_operations

_OPEN = sorted(status.value for status in OPEN_STATUSES)


def dispatch_inputs(session: Session) -> tuple[list[OpenOperation], set[str]]:
    """The open operations as dispatch lists show them, and every machine the tracker has
    heard from."""
    o = orm.orders.c
    due = {
        r.order_id: r.due_at
        for r in session.execute(select(o.order_id, o.due_at).where(o.status.in_(_OPEN)))
    }
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
        for order_id, rows in open_operations(session).items()
        if order_id in due
        for i, row in enumerate(rows)
    ]
    machines = set(session.scalars(select(orm.machines.c.machine_id)))
    return operations, machines


def read_machine_queues(
    sessions: sessionmaker[Session],
    plant: Plant,
    plan: Plan,
    also: Iterable[str] = (),
    max_jobs: int | None = None,
) -> dict[str, Queue]:
    """The queue of every machine of the plant, the database, the plan and `also` (machines
    told before: an empty queue tells one its work moved away)."""
    with sessions() as session:
        operations, machines = dispatch_inputs(session)
    return machine_queues(plan, operations, {*plant.machines, *machines, *also}, max_jobs)
