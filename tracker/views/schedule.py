"""Gantt data per machine: the current plan's operations and what actually ran (planned vs
actual)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tracker.adapters import orm
from tracker.domain.model import OPEN_STATUS_VALUES
from tracker.domain.planning.model import Plan


def _overlaps(start: datetime, end: datetime | None, lo: datetime, hi: datetime | None) -> bool:
    return (end is None or end > lo) and (hi is None or start < hi)


Lane = dict[str, list[dict[str, Any]]]


def _planned(
    session: Session, plan: Plan, start: datetime, end: datetime | None, machine: str | None
) -> list[tuple[str, dict[str, Any]]]:
    """(machine, bar) of the current plan's operations in the window, by planned start."""
    op, o = orm.operations.c, orm.orders.c
    # names of open orders' operations, in one query (the plan holds only keys)
    names = {
        (r.order_id, r.seq): r.name
        for r in session.execute(
            select(op.order_id, op.seq, op.name)
            .join(orm.orders, o.order_id == op.order_id)
            .where(o.status.in_(OPEN_STATUS_VALUES))
        )
    }
    bars = []
    for (order_id, seq), planned in sorted(plan.operations.items(), key=lambda i: i[1].start):
        if machine is not None and planned.machine != machine:
            continue
        if _overlaps(planned.start, planned.end, start, end):
            bar = {
                "order_id": order_id,
                "seq": seq,
                "name": names.get((order_id, seq), ""),
                "start": planned.start,
                "end": planned.end,
            }
            bars.append((planned.machine, bar))
    return bars


def _actual(
    session: Session, now: datetime, start: datetime, end: datetime | None, machine: str | None
) -> list[tuple[str, dict[str, Any]]]:
    """(machine, bar) of the operations that ran in the window, with their stored baseline."""
    op = orm.operations.c
    stmt = select(
        op.order_id, op.seq, op.name, op.machine, op.planned_machine, op.state
    ).add_columns(op.started_at, op.completed_at, op.planned_start, op.planned_end)
    # a running operation's bar reaches now: it overlaps a window that starts before now
    ends_after = op.completed_at > start
    stmt = stmt.where(
        op.started_at.is_not(None),
        or_(ends_after, op.completed_at.is_(None)) if start < now else ends_after,
    )
    if end is not None:
        stmt = stmt.where(op.started_at < end)
    if machine is not None:
        stmt = stmt.where(or_(op.planned_machine == machine, op.machine == machine))
    bars = []
    for r in session.execute(stmt.order_by(op.started_at, op.order_id, op.seq)):
        # the machine the plan had when it started (where it was bound), else its routing's
        on = r.planned_machine or r.machine
        if machine is not None and on != machine:
            continue
        bar = {
            "order_id": r.order_id,
            "seq": r.seq,
            "name": r.name,
            "state": r.state.value,
            "started_at": r.started_at,
            "completed_at": r.completed_at,
            "planned_start": r.planned_start,
            "planned_end": r.planned_end,
        }
        bars.append((on, bar))
    return bars


def schedule(
    session: Session,
    plan: Plan | None,
    now: datetime,
    start: datetime,
    end: datetime | None = None,
    machine: str | None = None,
) -> dict[str, Any]:
    """Per machine, the planned operations of the current plan and the started ones (their
    actual times and their stored baseline), in the window [start, end)."""
    lanes: dict[str, Lane] = {}
    planned = _planned(session, plan, start, end, machine) if plan is not None else []
    actual = _actual(session, now, start, end, machine)
    for kind, bars in (("planned", planned), ("actual", actual)):
        for machine_id, bar in bars:
            lanes.setdefault(machine_id, {"planned": [], "actual": []})[kind].append(bar)
    return {
        "plan_made_at": plan.made_at if plan is not None else None,
        "now": now,
        "start": start,
        "end": end,
        "machines": [{"machine_id": m, **lanes[m]} for m in sorted(lanes)],
    }
