"""Read models of downtime: records newest first, and the Pareto of lost minutes."""

from __future__ import annotations

from collections.abc import Sequence
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
) -> list[dict[str, Any]]:
    """Downtime records overlapping [since, until], newest first, at most `limit`."""
    d = orm.downtime.c
    stmt = _window(select(orm.downtime), since, until, now, min_s)
    if machine:
        stmt = stmt.where(d.machine_id == machine)
    if reason:
        stmt = stmt.where(d.reason == reason)
    found = session.execute(stmt.order_by(d.started_at.desc(), d.id.desc()).limit(limit))
    return [_with_lost(dict(r._mapping), now) for r in found]


def record(session: Session, now: datetime, record_id: int) -> dict[str, Any] | None:
    """One record (even a stop still shorter than the minimum), None when there is none."""
    found = session.execute(select(orm.downtime).where(orm.downtime.c.id == record_id)).first()
    return None if found is None else _with_lost(dict(found._mapping), now)


def _with_lost(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The row with the seconds it lost (an open stop: up to `now`)."""
    row["lost_s"] = round(((row["ended_at"] or now) - row["started_at"]).total_seconds(), 3)
    return row


def pareto_of(
    session: Session,
    now: datetime,
    min_s: float,
    since: datetime,
    until: datetime,
    by: ParetoBy,
    machines: Sequence[str] | None = None,
) -> list[ParetoBar]:
    """Minutes lost in [since, until] by reason, machine or category, largest first (of
    `machines` only, when given)."""
    d = orm.downtime.c
    stmt = select(d.machine_id, d.started_at, d.ended_at, d.reason, d.category)
    if machines is not None:
        stmt = stmt.where(d.machine_id.in_(machines))
    stops = [Stop(*row) for row in session.execute(_window(stmt, since, until, now, min_s))]
    return pareto(stops, since, until, now, by)
