"""Read models of incidents: each with the orders (alerts) it affects and its deliveries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.adapters import orm


def incidents(
    session: Session,
    open_only: bool = False,
    limit: int | None = None,
    incident_id: int | None = None,
) -> list[dict[str, Any]]:
    """Recorded incidents, newest first, each with its alerts and deliveries (three queries)."""
    i, a, d = orm.incidents.c, orm.alerts.c, orm.alert_deliveries.c
    stmt = select(orm.incidents).order_by(i.id.desc())
    if open_only:
        stmt = stmt.where(i.state != "closed")
    if incident_id is not None:
        stmt = stmt.where(i.id == incident_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = [dict(row._mapping) for row in session.execute(stmt)]
    by_id = {row["id"]: row for row in rows}
    for row in rows:
        row["orders"], row["deliveries"] = [], []
    if not by_id:
        return rows
    alerts = session.execute(
        select(a.incident_id, a.id.label("alert_id"), a.order_id, a.state, a.severity)
        .add_columns(a.schedule_status, a.message, a.acked_by, a.acked_at, a.cleared_at)
        .where(a.incident_id.in_(by_id))
        .order_by(a.id)
    )
    for alert in alerts:
        by_id[alert.incident_id]["orders"].append(dict(alert._mapping))
    deliveries = session.execute(
        select(d.incident_id, d.channel, d.target, d.version, d.attempts, d.last_error)
        .add_columns(d.delivered_at, d.created_at)
        .where(d.incident_id.in_(by_id))
        .order_by(d.id)
    )
    for delivery in deliveries:
        by_id[delivery.incident_id]["deliveries"].append(dict(delivery._mapping))
    return rows


def incident(session: Session, incident_id: int) -> dict[str, Any] | None:
    """One incident, as `incidents` shows it."""
    found = incidents(session, incident_id=incident_id)
    return found[0] if found else None
