"""Read models of orders: the customer's progress and the supervisor's detail, from plain rows
and the current plan."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.adapters import orm
from tracker.domain.delays import delay_of, eta_range
from tracker.domain.foresight.estimator import Forecast
from tracker.domain.model import Operation, Order
from tracker.domain.planning.model import Plan
from tracker.domain.schedule import STOPPED_STATES, eta_with_plan

Planned = dict[int, tuple[str | None, datetime | None, datetime | None]]


_ORDER_FIELDS = [f.name for f in fields(Order) if f.name not in ("operations", "events")]
_OPERATION_FIELDS = [f.name for f in fields(Operation)]


def order_token_hash(session: Session, order_id: str) -> str | None:
    """The hash of an order's customer token, None when there is no such order."""
    o = orm.orders.c
    return session.scalar(select(o.token_hash).where(o.order_id == order_id))


def read_order(session: Session, order_id: str, plan: Plan | None) -> tuple[Order, Planned] | None:
    """One order and its operations' plans from plain rows, no session identity or locks.

    For the customer's poll: the same domain object the bus works on, built straight from two
    SELECTs (about half the work of loading it as a mapped object, which the unit of work
    needs only to change it).
    """
    o, op = orm.orders.c, orm.operations.c
    row = session.execute(select(orm.orders).where(o.order_id == order_id)).first()
    if row is None:
        return None
    rows = session.execute(
        select(orm.operations).where(op.order_id == order_id).order_by(op.seq)
    ).all()
    operations = [Operation(**{k: r._mapping[k] for k in _OPERATION_FIELDS}) for r in rows]
    order = Order(**{k: row._mapping[k] for k in _ORDER_FIELDS}, operations=operations)
    stored = ((r.seq, r.planned_machine, r.planned_start, r.planned_end) for r in rows)
    return order, _with_plan(order_id, stored, plan)


def _with_plan(
    order_id: str,
    stored: Iterable[tuple[int, str | None, datetime | None, datetime | None]],
    plan: Plan | None,
) -> Planned:
    """(seq, machine, start, end) as stored at each operation's start, else from the plan."""
    planned: Planned = {}
    for seq, machine, start, end in stored:
        current = plan.operations.get((order_id, seq)) if plan is not None else None
        if start is None and current is not None:
            machine, start, end = current.machine, current.start, current.end
        planned[seq] = (machine, start, end)
    return planned


def machine_states(session: Session, order: Order) -> dict[str, str]:
    """The states of the machines that work the order's current operation (as the alerts')."""
    op = order.current
    if op is None or not order.is_open:
        return {}
    m = orm.machines.c
    rows = session.execute(
        select(m.machine_id, m.state).where(
            (m.machine_id == op.machine) | ((m.order_id == order.order_id) & (m.seq == op.seq))
        )
    ).all()
    return {r.machine_id: r.state for r in rows}


def order_progress(
    order: Order,
    now: datetime,
    plan: Plan | None = None,
    planned: Planned | None = None,
    states: Mapping[str, str] | None = None,
    down_allowance_s: float = 0.0,
    forecast: Forecast | None = None,
) -> dict[str, Any]:
    """Status, percent, per-operation state (planned and actual) and a fresh ETA for one order,
    with the customer's reason for a delay and an ETA range when it is uncertain (`delays`).

    The ETA is the later of the order's end in the current plan (queues, shifts, machines
    down) and its own projection from now. `states`: those of `machine_states`.
    """
    planned_eta = plan.eta(order.order_id) if plan is not None and order.is_open else None
    projected = order.project(now)
    eta = eta_with_plan(projected, planned_eta)
    planned = planned or {}
    current = order.current
    return {
        "order_id": order.order_id,
        "product": order.product,
        "quantity": order.quantity,
        "status": order.status.value,
        "percent_complete": round(order.percent, 1),
        "current_operation": current.name if current and order.is_open else None,
        "eta": eta,
        "due_at": order.due_at,
        "on_time": eta <= order.due_at,
        **_for_customers(order, now, (projected, planned_eta), planned, states, down_allowance_s),
        # the forecast's ETAs: half of the likely outcomes finish by P50, nine in ten by P90
        "eta_p50": forecast.p50 if forecast is not None and order.is_open else None,
        "eta_p90": forecast.p90 if forecast is not None and order.is_open else None,
        "schedule_status": order.schedule_status.value,
        "reasons": list(order.schedule_reasons),
        "created_at": order.created_at,
        "released_at": order.released_at,
        "started_at": order.started_at,
        "completed_at": order.completed_at,
        "shipped_at": order.shipped_at,
        "cancelled_at": order.cancelled_at,
        "operations": [
            {
                "seq": op.seq,
                "name": op.name,
                "machine": op.machine,
                "state": op.state.value,
                "quantity": op.quantity,
                "good_qty": op.good_qty,
                "percent_complete": round(op.percent, 1),
                "started_at": op.started_at,
                "completed_at": op.completed_at,
                "planned_machine": planned.get(op.seq, (None, None, None))[0],
                "planned_start": planned.get(op.seq, (None, None, None))[1],
                "planned_end": planned.get(op.seq, (None, None, None))[2],
            }
            for op in order.operations
        ],
        "last_update": last_update(order),
        "as_of": now,
    }


def _for_customers(
    order: Order,
    now: datetime,
    etas: tuple[datetime, datetime | None],
    planned: Planned,
    states: Mapping[str, str] | None,
    down_allowance_s: float,
) -> dict[str, Any]:
    """`delay` and the ETA range (`eta_earliest`, `eta_latest`), from the order's projection
    and its end in the plan (`etas`) and the states of its current operation's machines."""
    projected, planned_eta = etas
    states = states or {}
    current = order.current
    start = planned.get(current.seq, (None, None, None))[1] if current is not None else None
    delay = delay_of(order, now, eta_with_plan(projected, planned_eta), states, start)
    stopped = bool(STOPPED_STATES & set(states.values()))
    span = eta_range(now, projected, planned_eta, stopped, down_allowance_s)
    return {
        "eta_earliest": span[0] if span else None,
        "eta_latest": span[1] if span else None,
        "delay": {"kind": delay.kind, "text": delay.text} if delay else None,
    }


def last_update(order: Order) -> datetime:
    """When the order last moved: the latest of its lifecycle times and its operations' start,
    last count and completion (derived: no column; quantity changes are not among them)."""
    times = [
        order.created_at,
        order.released_at,
        order.started_at,
        order.completed_at,
        order.shipped_at,
        order.cancelled_at,
        *(t for op in order.operations for t in (op.started_at, op.last_count_at, op.completed_at)),
    ]
    return max(t for t in times if t is not None)


def order_detail(
    order: Order,
    now: datetime,
    plan: Plan | None = None,
    planned: Planned | None = None,
    states: Mapping[str, str] | None = None,
    forecast: Forecast | None = None,
) -> dict[str, Any]:
    """What a supervisor sees of one order: its progress, customer, why it was cancelled, and
    its P(on time) with the machine that threatens it most."""
    open_forecast = forecast if order.is_open else None
    return {
        **order_progress(order, now, plan, planned, states, forecast=forecast),
        "p_on_time": round(open_forecast.p_on_time, 3) if open_forecast is not None else None,
        "p_on_time_reason": open_forecast.reason if open_forecast is not None else None,
        "customer": order.customer,
        "priority": order.priority,
        "cancel_reason": order.cancel_reason,
    }
