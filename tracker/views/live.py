"""Compact current state of orders, alerts and machines for live views (the board's stream)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from tracker.adapters import orm
from tracker.domain.alerts import AlertState
from tracker.domain.model import OPEN_STATUS_VALUES, OPEN_STATUSES, OperationState
from tracker.domain.planning.model import Plan

# a snapshot shows open orders and those closed this recently (a board is about today)
RECENT = timedelta(hours=24)
SNAPSHOT_LIMIT = 2000
_CHUNK = 500  # ids per IN (...): well under every backend's bound-parameter limit

State = dict[str, Any]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _chunks(ids: Collection[Any]) -> Iterator[list[Any]]:
    items = sorted(ids)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _operation(row: Any, plan: Plan | None) -> tuple[State, float, float]:
    """One operation's state, planned work and work done (s), as `Operation` counts them."""
    planned_s = row.setup_s + row.cycle_s * row.quantity
    if row.state == OperationState.COMPLETED:
        done_s = planned_s
    elif row.started_at is None:
        done_s = 0.0
    else:
        done_s = row.setup_s + row.cycle_s * min(row.good_qty, row.quantity)
    machine, start, end = row.planned_machine, row.planned_start, row.planned_end
    current = plan.operations.get((row.order_id, row.seq)) if plan is not None else None
    if start is None and current is not None:  # not started: where the current plan puts it
        machine, start, end = current.machine, current.start, current.end
    state = {
        "seq": row.seq,
        "name": row.name,
        "machine": row.machine,
        "state": str(row.state),
        "quantity": row.quantity,
        "good_qty": row.good_qty,
        "planned_machine": machine,
        "planned_start": _iso(start),
        "planned_end": _iso(end),
        "started_at": _iso(row.started_at),
        "completed_at": _iso(row.completed_at),
    }
    return state, planned_s, done_s


def _orders(session: Session, where: ColumnElement[bool], plan: Plan | None) -> list[State]:
    o, op = orm.orders.c, orm.operations.c
    stmt: Select[Any] = select(orm.orders).where(where).order_by(o.due_at, o.order_id)
    found = {row.order_id: row for row in session.execute(stmt.limit(SNAPSHOT_LIMIT)).all()}
    operations: dict[str, list[tuple[State, float, float]]] = {oid: [] for oid in found}
    for chunk in _chunks(found):
        rows = session.execute(
            select(orm.operations).where(op.order_id.in_(chunk)).order_by(op.order_id, op.seq)
        )
        for row in rows:
            operations[row.order_id].append(_operation(row, plan))
    result = []
    for order_id, row in found.items():
        ops = operations[order_id]
        planned = sum(p for _, p, _ in ops)
        done = sum(d for _, _, d in ops)
        eta = row.completed_at or row.eta
        is_open = row.status in OPEN_STATUSES
        planned_eta = plan.eta(order_id) if plan is not None and is_open else None
        if planned_eta is not None and (eta is None or planned_eta > eta):
            eta = planned_eta
        current = next((s["name"] for s, _, _ in ops if s["state"] != "completed"), None)
        result.append(
            {
                "order_id": order_id,
                "customer": row.customer,
                "product": row.product,
                "quantity": row.quantity,
                "priority": row.priority,
                "status": str(row.status),
                "schedule_status": str(row.schedule_status),
                "reasons": list(row.schedule_reasons or []),
                "percent_complete": round(min(100.0, 100.0 * done / planned), 1)
                if planned
                else 100.0,
                "current_operation": current if is_open else None,
                "eta": _iso(eta),
                "due_at": _iso(row.due_at),
                "on_time": eta <= row.due_at if eta is not None else None,
                "operations": [s for s, _, _ in ops],
            }
        )
    return result


def orders(session: Session, order_ids: Collection[str], plan: Plan | None) -> list[State]:
    """The named orders (those that still exist), with their operations planned and actual."""
    found: list[State] = []
    for chunk in _chunks(order_ids):
        found += _orders(session, orm.orders.c.order_id.in_(chunk), plan)
    return found


def open_orders(session: Session, now: datetime, plan: Plan | None) -> list[State]:
    """Open orders and those closed in the last day, earliest due first (at most 2000)."""
    o = orm.orders.c
    recent = now - RECENT
    return _orders(
        session,
        or_(
            o.status.in_(OPEN_STATUS_VALUES),
            o.completed_at >= recent,
            o.shipped_at >= recent,
            o.cancelled_at >= recent,
        ),
        plan,
    )


def _alert(row: Any) -> State:
    return {
        "id": row.id,
        "order_id": row.order_id,
        "kind": row.kind,
        "state": str(row.state),
        "severity": str(row.severity),
        "schedule_status": str(row.schedule_status),
        "reasons": list(row.reasons or []),
        "message": row.message,
        "raised_at": _iso(row.raised_at),
        "updated_at": _iso(row.updated_at),
        "eta": _iso(row.eta),
        "due_at": _iso(row.due_at),
        "acked_by": row.acked_by,
        "acked_at": _iso(row.acked_at),
        "ack_comment": row.ack_comment,
        "cleared_at": _iso(row.cleared_at),
    }


def alerts(session: Session, alert_ids: Collection[int]) -> list[State]:
    """The named alerts, newest first."""
    a = orm.alerts.c
    found: list[State] = []
    for chunk in _chunks(alert_ids):
        found += [_alert(r) for r in session.execute(select(orm.alerts).where(a.id.in_(chunk)))]
    return sorted(found, key=lambda s: -int(s["id"]))


def open_alerts(session: Session) -> list[State]:
    """Alerts not cleared yet (active or acknowledged), newest first."""
    a = orm.alerts.c
    stmt = (
        select(orm.alerts)
        .where(a.state.in_([AlertState.ACTIVE, AlertState.ACKNOWLEDGED]))
        .order_by(a.id.desc())
        .limit(SNAPSHOT_LIMIT)
    )
    return [_alert(r) for r in session.execute(stmt)]


def _machine(row: Any) -> State:
    return {
        "machine_id": row.machine_id,
        "state": row.state,
        "state_since": _iso(row.state_since),
        "last_seen": _iso(row.last_seen),
        "order_id": row.order_id,
        "seq": row.seq,
    }


def machines(session: Session, machine_ids: Collection[str] | None = None) -> list[State]:
    """The named machines, or all of them, by id."""
    m = orm.machines.c
    if machine_ids is None:
        rows: Sequence[Any] = session.execute(select(orm.machines).order_by(m.machine_id)).all()
        return [_machine(r) for r in rows]
    found: list[State] = []
    for chunk in _chunks(machine_ids):
        found += [
            _machine(r)
            for r in session.execute(select(orm.machines).where(m.machine_id.in_(chunk)))
        ]
    return sorted(found, key=lambda s: str(s["machine_id"]))
