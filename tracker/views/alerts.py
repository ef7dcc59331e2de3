"""Read models of alerts: the list with each alert's deliveries, and one alert's history."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.adapters import orm


def alerts(
    session: Session,
    order_id: str | None = None,
    state: str | None = None,
    severity: str | None = None,
    limit: int | None = None,
    alert_id: int | None = None,
) -> list[dict[str, Any]]:
    """Recorded alerts, newest first, each with its deliveries (two queries in all)."""
    a, d = orm.alerts.c, orm.alert_deliveries.c
    stmt = select(orm.alerts).order_by(a.id.desc())
    for column, wanted in ((a.order_id, order_id), (a.state, state), (a.severity, severity)):
        if wanted:
            stmt = stmt.where(column == wanted)
    if alert_id is not None:
        stmt = stmt.where(a.id == alert_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = [dict(row._mapping) for row in session.execute(stmt)]
    by_id: dict[int, list[dict[str, Any]]] = {row["id"]: [] for row in rows}
    for row in rows:
        row["deliveries"] = by_id[row["id"]]
    if by_id:
        deliveries = session.execute(
            select(d.alert_id, d.channel, d.target, d.version, d.attempts, d.last_error)
            .add_columns(d.delivered_at, d.created_at, d.payload)
            .where(d.alert_id.in_(by_id))
            .order_by(d.id)
        )
        for delivery in deliveries:
            by_id[delivery.alert_id].append(dict(delivery._mapping))
    return rows


def alert(session: Session, alert_id: int) -> dict[str, Any] | None:
    """One alert, as `alerts` shows it."""
    found = alerts(session, alert_id=alert_id)
    return found[0] if found else None


def alert_history(deliveries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The versions of an alert that were delivered (raised, escalated, acknowledged,
    cleared), oldest first, from its outbox rows: what each said and where it went."""
    versions: dict[int, dict[str, Any]] = {}
    for row in deliveries:
        entry = versions.get(row["version"])
        if entry is None:
            payload = json.loads(row["payload"])
            entry = versions[row["version"]] = {
                "version": row["version"],
                "event": payload.get("event", ""),
                "state": payload.get("state", ""),
                "severity": payload.get("severity", ""),
                "schedule_status": payload.get("schedule_status", ""),
                "eta": payload.get("eta"),
                "message": payload.get("message", ""),
                "at": row["created_at"],
                "deliveries": [],
            }
        entry["deliveries"].append(row)
    return [versions[v] for v in sorted(versions)]


def alerts_raised(session: Session) -> int:
    """How many late-order alerts were ever raised (stored)."""
    return int(session.execute(select(func.count()).select_from(orm.alerts)).scalar_one())
