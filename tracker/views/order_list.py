"""The supervisors' order list: filtered and paged, one compact row per order from plain rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, exists, func, or_, select
from sqlalchemy.orm import Session

from tracker.adapters import orm
from tracker.domain.model import OPEN_STATUSES, OperationState, OrderStatus, remaining_work_s
from tracker.domain.planning.model import Plan
from tracker.domain.schedule import ScheduleStatus


@dataclass(frozen=True)
class OrderFilter:
    """Which orders to list; None means any."""

    status: OrderStatus | None = None
    schedule_status: ScheduleStatus | None = None
    due_from: datetime | None = None
    due_to: datetime | None = None
    customer: str | None = None
    # an order with an operation routed to, or planned on, this machine or work center
    machine: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        o, op = orm.orders.c, orm.operations.c
        found: list[ColumnElement[bool]] = []
        if self.status is not None:
            found.append(o.status == self.status)
        if self.schedule_status is not None:
            found.append(o.schedule_status == self.schedule_status)
        if self.due_from is not None:
            found.append(o.due_at >= self.due_from)
        if self.due_to is not None:
            found.append(o.due_at < self.due_to)
        if self.customer is not None:
            found.append(o.customer == self.customer)
        if self.machine is not None:
            on_machine = or_(op.machine == self.machine, op.planned_machine == self.machine)
            found.append(exists().where(op.order_id == o.order_id, on_machine))
        return found


def list_orders(
    session: Session,
    filters: OrderFilter,
    limit: int,
    offset: int,
    now: datetime,
    plan: Plan | None,
) -> tuple[int, list[dict[str, Any]]]:
    """(how many orders match, the page of them), by due date then id (a stable order)."""
    o, op = orm.orders.c, orm.operations.c
    where = filters.conditions()
    total = session.execute(select(func.count()).select_from(orm.orders).where(*where))
    page = session.execute(
        select(o.order_id, o.customer, o.product, o.quantity, o.status, o.schedule_status)
        .add_columns(o.due_at, o.completed_at)
        .where(*where)
        .order_by(o.due_at, o.order_id)
        .limit(limit)
        .offset(offset)
    ).all()
    ops: dict[str, list[Row[Any]]] = defaultdict(list)
    if page:
        rows = session.execute(
            select(op.order_id, op.seq, op.name, op.setup_s, op.cycle_s, op.quantity)
            .add_columns(op.good_qty, op.state, op.started_at, op.observed_cycle_s)
            .where(op.order_id.in_([r.order_id for r in page]))
            .order_by(op.order_id, op.seq)
        )
        for row in rows:
            ops[row.order_id].append(row)
    return total.scalar_one(), [_row(r, ops[r.order_id], now, plan) for r in page]


def _row(
    order: Row[Any], ops: Sequence[Row[Any]], now: datetime, plan: Plan | None
) -> dict[str, Any]:
    """The figures `views.order_progress` gives, from the rows (no ORM objects)."""
    planned = done = left = 0.0
    current = None
    for op in ops:
        work = op.setup_s + op.cycle_s * op.quantity
        planned += work
        if op.state is OperationState.COMPLETED:
            done += work
            continue
        if op.started_at is not None:
            done += op.setup_s + op.cycle_s * min(op.good_qty, op.quantity)
        left += remaining_work_s(
            op.started_at is not None,
            op.setup_s,
            op.cycle_s,
            op.observed_cycle_s,
            op.quantity - op.good_qty,
        )
        current = current or op
    is_open = order.status in OPEN_STATUSES
    eta = order.completed_at or now + timedelta(seconds=left)
    planned_eta = plan.eta(order.order_id) if plan is not None and is_open else None
    if planned_eta is not None and planned_eta > eta:
        eta = planned_eta
    return {
        "order_id": order.order_id,
        "customer": order.customer,
        "product": order.product,
        "quantity": order.quantity,
        "status": order.status.value,
        "schedule_status": order.schedule_status.value,
        "percent_complete": round(min(100.0, 100.0 * done / planned) if planned else 100.0, 1),
        "eta": eta,
        "due_at": order.due_at,
        "on_time": eta <= order.due_at,
        "current_operation": current.name if current is not None and is_open else None,
        "current_seq": current.seq if current is not None and is_open else None,
    }
