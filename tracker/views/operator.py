"""Read models of the operator terminal: a machine's job and progress, its current or last
stop, and the operator actions' log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.adapters import orm
from tracker.adapters.operator_action_store import last_job_query


def machine(session: Session, machine_id: str) -> dict[str, Any] | None:
    """The machine's state and job, None when it was never stored."""
    m = orm.machines.c
    stmt = select(m.state, m.state_since, m.order_id, m.seq).where(m.machine_id == machine_id)
    row = session.execute(stmt).first()
    return None if row is None else dict(row._mapping)


def last_job(session: Session, machine_id: str) -> tuple[str, int] | None:
    """(order, operation) of the newest line of the machine's binding log."""
    row = session.execute(last_job_query(machine_id)).first()
    return None if row is None else (row.order_id, row.seq)


def job(session: Session, order_id: str, seq: int) -> dict[str, Any] | None:
    """An operation's progress with its order's product and due date."""
    o, op = orm.orders.c, orm.operations.c
    stmt = (
        select(
            op.order_id,
            op.seq.label("operation"),
            op.name,
            o.product,
            op.quantity,
            op.good_qty.label("good"),
            op.scrap_qty.label("scrap"),
            op.state,
            o.due_at,
        )
        .join(orm.orders, o.order_id == op.order_id)
        .where(op.order_id == order_id, op.seq == seq)
    )
    row = session.execute(stmt).first()
    return None if row is None else dict(row._mapping)


def stops(session: Session, machine_id: str, limit: int) -> list[dict[str, Any]]:
    """The machine's newest stops, the open one first."""
    d = orm.downtime.c
    stmt = (
        select(orm.downtime)
        .where(d.machine_id == machine_id)
        .order_by(d.ended_at.is_not(None), d.started_at.desc(), d.id.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in session.execute(stmt)]


def actions(session: Session, machine_id: str, limit: int) -> list[dict[str, Any]]:
    """The machine's operator actions, newest first."""
    a = orm.operator_actions.c
    stmt = (
        select(orm.operator_actions)
        .where(a.machine_id == machine_id)
        .order_by(a.at.desc(), a.id.desc())
        .limit(limit)
    )
    return [{**r._mapping, "operation": r.seq} for r in session.execute(stmt)]


def last_action(
    session: Session, machine_id: str, action: str, actor: str
) -> dict[str, Any] | None:
    """The newest action of this kind by this person at the machine."""
    a = orm.operator_actions.c
    stmt = (
        select(orm.operator_actions)
        .where(a.machine_id == machine_id, a.action == action, a.actor == actor[:200])
        .order_by(a.at.desc(), a.id.desc())
        .limit(1)
    )
    row = session.execute(stmt).first()
    return None if row is None else dict(row._mapping)
