"""Read models: what the API returns, computed from stored state and the current time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.adapters import orm
from tracker.domain.model import Order


def order_progress(order: Order, now: datetime) -> dict[str, Any]:
    """Status, percent, per-operation state and a fresh ETA for one order."""
    eta = order.project(now)
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
            }
            for op in order.operations
        ],
        "as_of": now,
    }


def order_detail(order: Order, now: datetime) -> dict[str, Any]:
    """What a supervisor sees of one order: its progress, customer and why it was cancelled."""
    return {
        **order_progress(order, now),
        "customer": order.customer,
        "priority": order.priority,
        "cancel_reason": order.cancel_reason,
    }


def alerts(
    session: Session, order_id: str | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    """Every recorded alert, newest first, with when its current version was delivered."""
    a, d = orm.alerts.c, orm.alert_deliveries.c
    stmt = select(orm.alerts).order_by(a.id.desc())
    if order_id:
        stmt = stmt.where(a.order_id == order_id)
    if state:
        stmt = stmt.where(a.state == state)
    rows = [dict(row._mapping) for row in session.execute(stmt)]
    for row in rows:
        row["deliveries"] = [
            dict(r._mapping)
            for r in session.execute(
                select(d.channel, d.target, d.version, d.attempts, d.last_error, d.delivered_at)
                .where(d.alert_id == row["id"])
                .order_by(d.id)
            )
        ]
    return rows


def alert(session: Session, alert_id: int) -> dict[str, Any] | None:
    """One alert, as `alerts` shows it."""
    found = [row for row in alerts(session) if row["id"] == alert_id]
    return found[0] if found else None
