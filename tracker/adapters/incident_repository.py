"""The incidents of a unit of work: each machine's open incident, locked, its alerts, the stop."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.domain.alerts import Alert
from tracker.domain.incidents import ALARM_WINDOW_S, AlarmNote, Incident

from . import orm
from .transaction_state import TransactionState


class SqlIncidents:
    """Incident queries of `SqlUnitOfWork` (mixed in: it provides `session` and `_tx`)."""

    session: Session
    _tx: TransactionState

    @property
    def incidents_seen(self) -> list[Incident]:
        return self._tx.incidents_seen

    def _seen(self, incident: Incident | None) -> Incident | None:
        if incident is not None and incident not in self._tx.incidents_seen:
            self._tx.incidents_seen.append(incident)
        return incident

    def open_incident(self, machine_id: str) -> Incident | None:
        """The machine's open (not closed) incident, locked."""
        i = orm.incidents.c
        stmt = (
            select(Incident)
            .where(i.machine_id == machine_id, i.state != "closed")
            .order_by(i.id.desc())
            .with_for_update()
        )
        return self._seen(self.session.scalars(stmt).first())

    def get_incident(self, incident_id: int) -> Incident | None:
        stmt = select(Incident).where(orm.incidents.c.id == incident_id).with_for_update()
        return self._seen(self.session.scalars(stmt).first())

    def add_incident(self, incident: Incident) -> None:
        self.session.add(incident)
        self.session.flush()  # the id links alerts and names the outbox rows
        self._seen(incident)

    def incident_alerts(self, incident_id: int) -> list[Alert]:
        """Every alert hanging under the incident, oldest first (open ones locked)."""
        a = orm.alerts.c
        stmt = select(Alert).where(a.incident_id == incident_id).order_by(a.id).with_for_update()
        found = list(self.session.scalars(stmt))
        for alert in found:
            if alert not in self._tx.alerts_seen:
                self._tx.alerts_seen.append(alert)
        return found

    def machine_stop(self, machine_id: str) -> datetime | None:
        """Since when the machine is in its state, its row locked: two transactions that would
        open the machine's incident take turns (the second then finds it)."""
        m = orm.machines.c
        stmt = select(m.state_since).where(m.machine_id == machine_id).with_for_update()
        return self.session.execute(stmt).scalar_one_or_none()

    def alarms_near(self, machine_id: str, since: datetime) -> list[AlarmNote]:
        """The machine's alarms raised from a little before `since` on, newest first."""
        a = orm.alarms.c
        stmt = select(a.code, a.message, a.raised_at).where(
            a.machine_id == machine_id, a.raised_at >= since - timedelta(seconds=ALARM_WINDOW_S)
        )
        rows = self.session.execute(stmt.order_by(a.raised_at.desc()).limit(20))
        return [AlarmNote(r.code, r.message, r.raised_at) for r in rows]
