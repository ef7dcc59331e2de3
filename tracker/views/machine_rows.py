"""The Gantt's machine rows over a range: declared machines first, each with its off-shift
windows (its work center's calendar), the states it was in and its downtime records."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.adapters import orm
from tracker.domain.planning.calendar import off_shift, off_shift_kind
from tracker.domain.routing import Plant
from tracker.views.downtime import records

Row = dict[str, Any]


def _order(session: Session, plant: Plant) -> list[str]:
    """The plant file's machines in its order, then the others the tracker knows, by name."""
    declared = list(dict.fromkeys([*plant.machines, *sum(plant.work_centers.values(), ())]))
    known = session.execute(select(orm.machines.c.machine_id)).scalars()
    return declared + sorted(set(known) - set(declared))


def _states(
    session: Session, now: datetime, start: datetime, end: datetime, limit: int
) -> tuple[dict[str, list[Row]], bool]:
    """Each machine's states in the range, clipped to it, oldest first; the newest `limit`
    closed ones at most (True when some were left out), and its current state up to now."""
    t, m = orm.machine_states.c, orm.machines.c
    stmt = (
        select(t.machine_id, t.state, t.started_at, t.ended_at)
        .where(t.started_at < end, t.ended_at > start)
        .order_by(t.started_at.desc(), t.id.desc())
        .limit(limit + 1)
    )
    spans: list[tuple[str, str, datetime, datetime]] = [tuple(r) for r in session.execute(stmt)]
    truncated = len(spans) > limit
    spans = spans[:limit][::-1]
    current = select(m.machine_id, m.state, m.state_since).where(m.state_since < min(now, end))
    spans += [(r.machine_id, r.state, r.state_since, now) for r in session.execute(current)]
    found: dict[str, list[Row]] = defaultdict(list)
    for machine_id, state, began, ended in spans:
        began, ended = max(began, start), min(ended, end, now)
        if ended > began:
            found[machine_id].append({"state": state, "from": began, "to": ended})
    return found, truncated


def machine_rows(
    session: Session,
    plant: Plant,
    now: datetime,
    start: datetime,
    end: datetime,
    min_stop_s: float,
    limit: int = 20_000,
) -> Row:
    """Per machine, in a stable order, what the Gantt shades and splits its bars by over
    [start, end): off-shift windows, states (up to now) and downtime (open stops to now)."""
    states, truncated = _states(session, now, start, end, limit)
    stops: dict[str, list[Row]] = defaultdict(list)
    for r in records(session, now, min_stop_s, since=start, until=end, limit=limit):
        began, ended = max(r["started_at"], start), min(r["ended_at"] or now, end)
        if ended <= began:
            continue
        stop = {
            "state": r["state"],
            "from": began,
            "to": ended,
            "open": r["ended_at"] is None,
            "reason": r["reason"],
            "category": r["category"],
            "alarm_code": r["alarm_code"],
        }
        stops[r["machine_id"]].insert(0, stop)  # the view lists them newest first
    declared = set(plant.machines)
    rows = []
    for machine_id in _order(session, plant):
        calendar = plant.calendar_of(machine_id)
        rows.append(
            {
                "machine_id": machine_id,
                "declared": machine_id in declared,
                "calendar": None if calendar.always else calendar.name,
                "timezone": None if calendar.always else calendar.timezone,
                "off_shift": [
                    {"from": a, "to": b, "kind": off_shift_kind(calendar, a, b)}
                    for a, b in off_shift(calendar, start, end)
                ],
                "states": states.get(machine_id, []),
                "downtime": stops.get(machine_id, []),
            }
        )
    return {"now": now, "from": start, "to": end, "truncated": truncated, "machines": rows}
