"""Read models of downtime: records newest first, and the Pareto of lost minutes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from tracker.adapters import orm
from tracker.domain.downtime import ParetoBar, ParetoBy, Stop, pareto


def _window(
    stmt: Select[Any], since: datetime | None, until: datetime | None, now: datetime, min_s: float
) -> Select[Any]:
    """Records overlapping [since, until]; an open one only once it lasted the minimum."""
    d = orm.downtime.c
    if since is not None:
        stmt = stmt.where(or_(d.ended_at.is_(None), d.ended_at > since))
    if until is not None:
        stmt = stmt.where(d.started_at < until)
    # a stop still shorter than the minimum is not (yet) downtime; closed short ones are gone
    young = now - timedelta(seconds=min_s)
    return stmt.where(or_(d.ended_at.is_not(None), d.started_at < young))


def records(
    session: Session,
    now: datetime,
    min_s: float,
    *,
    machine: str | None = None,
    reason: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    record_id: int | None = None,
) -> list[dict[str, Any]]:
    """Downtime records, newest first, with their lost seconds (open ones up to `now`)."""
    d = orm.downtime.c
    stmt = _window(select(orm.downtime), since, until, now, min_s)
    if machine:
        stmt = stmt.where(d.machine_id == machine)
    if reason:
        stmt = stmt.where(d.reason == reason)
    if record_id is not None:
        stmt = select(orm.downtime).where(d.id == record_id)
    rows = [
        dict(r._mapping)
        for r in session.execute(stmt.order_by(d.started_at.desc(), d.id.desc()).limit(limit))
    ]
    for row in rows:
        row["lost_s"] = round(((row["ended_at"] or now) - row["started_at"]).total_seconds(), 3)
    return rows


def machine_of(session: Session, record_id: int) -> str | None:
    """The machine of one record, None when there is no such record."""
    d = orm.downtime.c
    return session.execute(select(d.machine_id).where(d.id == record_id)).scalar()


def pareto_of(
    session: Session,
    now: datetime,
    min_s: float,
    since: datetime,
    until: datetime,
    by: ParetoBy,
) -> list[ParetoBar]:
    """Minutes lost in [since, until] by reason, machine or category, largest first."""
    d = orm.downtime.c
    stmt = select(d.machine_id, d.started_at, d.ended_at, d.reason, d.category)
    stops = [Stop(*row) for row in session.execute(_window(stmt, since, until, now, min_s))]
    return pareto(stops, since, until, now, by)
