"""A machine's states and alarms within a time range, for its charts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.adapters import orm


def state_bands(
    session: Session, machine_id: str, start: datetime, end: datetime, now: datetime
) -> list[dict[str, Any]]:
    """States the machine was in during `start`..`end`, oldest first, each clipped to the range;
    the current state runs to `now` (or `end`, if sooner)."""
    t = orm.machine_states.c
    stmt = (
        select(t.state, t.started_at, t.ended_at)
        .where(t.machine_id == machine_id, t.started_at < end, t.ended_at > start)
        .order_by(t.started_at, t.id)
    )
    spans = [(r.state, r.started_at, r.ended_at) for r in session.execute(stmt)]
    m = orm.machines.c
    current = session.execute(
        select(m.state, m.state_since).where(m.machine_id == machine_id)
    ).first()
    if current is not None and current.state_since is not None:
        spans.append((current.state, current.state_since, min(now, end)))
    return [
        {"state": state, "from": max(began, start), "to": min(ended, end)}
        for state, began, ended in spans
        if began < end and ended > start and ended > began
    ]


def alarms_between(
    session: Session, machine_id: str, start: datetime, end: datetime, limit: int = 1000
) -> list[dict[str, Any]]:
    """Alarms the machine raised during `start`..`end`, oldest first (the newest `limit`)."""
    a = orm.alarms.c
    stmt = (
        select(a.raised_at, a.code, a.message, a.order_id, a.seq)
        .where(a.machine_id == machine_id, a.raised_at >= start, a.raised_at < end)
        .order_by(a.raised_at.desc(), a.id.desc())
        .limit(limit)
    )
    rows = [
        {
            "at": r.raised_at,
            "code": r.code,
            "message": r.message,
            "order_id": r.order_id,
            "operation": r.seq,
        }
        for r in session.execute(stmt)
    ]
    return rows[::-1]
