"""Read models: what the API returns, computed from stored state and the current time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.adapters import orm
from tracker.domain.model import Order, OrderStatus


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
        "current_operation": current.name
        if current and order.status is not OrderStatus.COMPLETED
        else None,
        "eta": eta,
        "due_at": order.due_at,
        "on_time": eta <= order.due_at,
        "completed_at": order.completed_at,
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


def alerts(session: Session, order_id: str | None = None) -> list[dict[str, Any]]:
    """Every recorded alert, newest first."""
    stmt = select(orm.alerts).order_by(orm.alerts.c.id.desc())
    if order_id:
        stmt = stmt.where(orm.alerts.c.order_id == order_id)
    return [dict(row._mapping) for row in session.execute(stmt)]
