"""The board's machine cards: every declared or heard machine in a stable order, and for a
stopped one its alarm and when it is expected back."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.adapters import orm
from tracker.domain.expected_return import REPAIRS_KEPT, expected_return
from tracker.domain.incidents import ALARM_WINDOW_S, AlarmNote, reason_of
from tracker.domain.planning.model import Plan
from tracker.domain.routing import Plant
from tracker.domain.schedule import STOPPED_STATES

# the state of a machine the plant file declares and the tracker never heard from
NEVER_REPORTED = "UNKNOWN"


def _alarm(session: Session, machine_id: str, since: datetime | None) -> dict[str, Any] | None:
    """The alarm that came with the stop: its open downtime record's, else the newest alarm
    raised near or after the stop's start (as an incident takes it)."""
    d, a = orm.downtime.c, orm.alarms.c
    stop = session.execute(
        select(d.alarm_code, d.alarm_text, d.started_at)
        .where(d.machine_id == machine_id, d.ended_at.is_(None), d.alarm_code.is_not(None))
        .order_by(d.started_at.desc())
        .limit(1)
    ).first()
    if stop is not None:
        return {"code": stop.alarm_code, "text": stop.alarm_text or "", "raised_at": None}
    recent = select(a.code, a.message, a.raised_at).where(a.machine_id == machine_id)
    if since is not None:
        recent = recent.where(a.raised_at >= since - timedelta(seconds=ALARM_WINDOW_S))
    rows = session.execute(recent.order_by(a.id.desc()).limit(20)).all()
    note = reason_of((AlarmNote(r.code, r.message, r.raised_at) for r in rows), since)
    if note is None:
        return None
    return {"code": note.code, "text": note.message, "raised_at": note.raised_at}


def _repairs_s(session: Session, code: str) -> list[float]:
    """How long the last closed DOWN stops with this alarm code lasted, newest first."""
    d = orm.downtime.c
    rows = session.execute(
        select(d.started_at, d.ended_at)
        .where(d.alarm_code == code, d.state == "DOWN", d.ended_at.is_not(None))
        .order_by(d.ended_at.desc())
        .limit(REPAIRS_KEPT)
    )
    return [(r.ended_at - r.started_at).total_seconds() for r in rows]


def _stopped(
    session: Session, row: Any, now: datetime, plan: Plan | None, allowance_s: float
) -> dict[str, Any]:
    """A stopped machine's alarm and expected return."""
    alarm = _alarm(session, row.machine_id, row.state_since)
    plan_back = (plan.made_at if plan is not None else now) + timedelta(seconds=allowance_s)
    repairs = _repairs_s(session, alarm["code"]) if alarm is not None else []
    back = expected_return(row.state_since or now, repairs, allowance_s)
    return {
        "alarm": alarm,
        "expected_back": back.at,
        "expected_basis": back.basis,
        "repairs": back.repairs,
        "typical_repair_s": back.typical_s,
        "plan_back": plan_back,
    }


def machine_cards(
    session: Session, plant: Plant, plan: Plan | None, now: datetime, allowance_s: float
) -> list[dict[str, Any]]:
    """Every machine of the plant file or heard from, by id; one never heard is `UNKNOWN`."""
    heard = {r.machine_id: r for r in session.execute(select(orm.machines))}
    cards = []
    for machine_id in sorted({*plant.machines, *heard}):
        row = heard.get(machine_id)
        card: dict[str, Any] = {
            "machine_id": machine_id,
            "declared": machine_id in plant.machines,
            "reported": row is not None,
            "state": row.state if row is not None else NEVER_REPORTED,
            "state_since": row.state_since if row is not None else None,
            "last_seen": row.last_seen if row is not None else None,
            "alarm": None,
            "expected_back": None,
            "expected_basis": None,
            "repairs": 0,
            "typical_repair_s": None,
            "plan_back": None,
        }
        if row is not None and row.state in STOPPED_STATES:
            card.update(_stopped(session, row, now, plan, allowance_s))
        cards.append(card)
    return cards
