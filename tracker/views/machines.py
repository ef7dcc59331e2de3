"""Read models of machines: unassigned events, alarms, state intervals and utilisation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from tracker.adapters import orm


def _rows(session: Session, table: Table, machine_id: str, limit: int) -> list[dict[str, Any]]:
    stmt = (
        select(table)
        .where(table.c.machine_id == machine_id)
        .order_by(table.c.id.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in session.execute(stmt)]


def unassigned_events(session: Session, machine_id: str, limit: int = 500) -> list[dict[str, Any]]:
    """Events of a machine that no order's operation took, newest first."""
    return _rows(session, orm.unassigned_events, machine_id, limit)


def binding(session: Session, machine_id: str) -> tuple[str | None, int | None]:
    """The job (order, operation) a machine is bound to now; (None, None) for none."""
    m = orm.machines.c
    row = session.execute(select(m.order_id, m.seq).where(m.machine_id == machine_id)).first()
    return (row.order_id, row.seq) if row is not None else (None, None)


def job_bindings(session: Session, machine_id: str, limit: int = 500) -> list[dict[str, Any]]:
    """Jobs bound to and released from a machine, newest first."""
    return [
        {**row, "operation": row["seq"]}
        for row in _rows(session, orm.job_bindings, machine_id, limit)
    ]


def alarms(session: Session, machine_id: str, limit: int = 500) -> list[dict[str, Any]]:
    """Alarms a machine raised, newest first."""
    return _rows(session, orm.alarms, machine_id, limit)


def machine_states(session: Session, machine_id: str) -> list[dict[str, Any]]:
    """The closed state intervals of a machine, oldest first."""
    t = orm.machine_states
    stmt = (
        select(t.c.state, t.c.started_at, t.c.ended_at)
        .where(t.c.machine_id == machine_id)
        .order_by(t.c.started_at, t.c.id)
    )
    return [dict(row._mapping) for row in session.execute(stmt)]


def machine_utilisation(session: Session, machine_id: str, now: datetime) -> dict[str, Any] | None:
    """Current state and seconds spent per state (closed intervals + the current one so far)."""
    m = orm.machines.c
    row = session.execute(select(orm.machines).where(m.machine_id == machine_id)).first()
    if row is None:
        return None
    machine = row._mapping
    seconds: dict[str, float] = {}
    for interval in machine_states(session, machine_id):
        spent = (interval["ended_at"] - interval["started_at"]).total_seconds()
        seconds[interval["state"]] = seconds.get(interval["state"], 0.0) + spent
    since = machine["state_since"]
    if since is not None and now > since:
        seconds[machine["state"]] = (
            seconds.get(machine["state"], 0.0) + (now - since).total_seconds()
        )
    return {
        "machine_id": machine_id,
        "state": machine["state"],
        "state_since": since,
        "last_seen": machine["last_seen"],
        "order_id": machine["order_id"],
        "seq": machine["seq"],
        "stale_events": machine["stale_events"],
        "seconds": seconds,
        "as_of": now,
    }


def all_machines(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Every machine as `machine_utilisation` shows it, in two queries; `utilisation` is the
    share of its known time spent RUNNING."""
    t = orm.machine_states.c
    spent: dict[str, dict[str, float]] = {}
    intervals = session.execute(select(t.machine_id, t.state, t.started_at, t.ended_at))
    for machine_id, state, started, ended in intervals:
        seconds = spent.setdefault(machine_id, {})
        seconds[state] = seconds.get(state, 0.0) + (ended - started).total_seconds()
    found = []
    for row in session.execute(select(orm.machines).order_by(orm.machines.c.machine_id)):
        machine = row._mapping
        seconds = spent.get(machine["machine_id"], {})
        since = machine["state_since"]
        if since is not None and now > since:
            seconds[machine["state"]] = (
                seconds.get(machine["state"], 0.0) + (now - since).total_seconds()
            )
        total = sum(seconds.values())
        found.append(
            {
                "machine_id": machine["machine_id"],
                "state": machine["state"],
                "state_since": since,
                "last_seen": machine["last_seen"],
                "last_heard_at": machine["last_heard_at"],
                "order_id": machine["order_id"],
                "seq": machine["seq"],
                "stale_events": machine["stale_events"],
                "seconds": seconds,
                "utilisation": round(seconds.get("RUNNING", 0.0) / total, 4) if total else None,
                "as_of": now,
            }
        )
    return found
