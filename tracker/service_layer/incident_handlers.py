"""One incident per stopped machine: alerts hang under it, one ack for all, one outbox row each.

Called from the alert handlers: an alert whose order a stopped machine holds up joins the
machine's incident, a machine running again closes it, a supervisor acknowledges it; and from
the bus once per transaction, when the incidents' notices go to the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from shopfloor.contract.incident_payloads import IncidentNotice, IncidentOrder
from shopfloor.contract.payloads import encode
from tracker.domain import commands
from tracker.domain.alerts import Alert
from tracker.domain.incidents import Incident, IncidentError, reason_of, stopped_machine
from tracker.domain.model import DomainError

from .outbox import enqueue
from .unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class IncidentNotFound(DomainError):
    """No incident with this id."""


class IncidentClosed(DomainError):
    """The incident was closed (its machine runs again): there is nothing left to acknowledge."""


def link_alert(
    alert: Alert, machine_states: Mapping[str, str], uow: UnitOfWork, now: datetime
) -> None:
    """Hang an open alert under the incident of the machine that stops its order, if one does.

    An order slowed by anything else keeps a plain alert. An alert under an incident that has
    closed moves to the machine's new incident when the machine stops again.
    """
    stopped = stopped_machine(machine_states)
    if stopped is None or not alert.is_open:
        return
    machine_id, state = stopped
    incident = uow.open_incident(machine_id)
    if incident is None:
        # another transaction may be opening one: wait for the machine's row, then look again
        since = uow.machine_stop(machine_id)
        incident = uow.open_incident(machine_id)
        if incident is None:
            incident = _open(machine_id, state, since, uow, now)
            alert.incident_id = incident.id
    if incident.id == alert.incident_id:
        return
    incident.order_affected(now)
    alert.incident_id = incident.id
    log.warning("alert %s joins incident %s: %s", alert.id, incident.id, incident.message)


def _open(
    machine_id: str, state: str, since: datetime | None, uow: UnitOfWork, now: datetime
) -> Incident:
    alarm = reason_of(uow.alarms_near(machine_id, since), since) if since is not None else None
    incident = Incident.open_for(machine_id, state, since, alarm, now, uow.policy.rules.tz)
    uow.add_incident(incident)
    log.warning("incident %s opened: %s", incident.id, incident.message)
    return incident


def close_incidents(machines_back: Mapping[str, str], uow: UnitOfWork, now: datetime) -> None:
    """Machines that run again (id -> new state) close their open incident; the alerts under
    it clear or stay by their own rules."""
    for machine_id, state in sorted(machines_back.items()):
        incident = uow.open_incident(machine_id)
        if incident is not None:
            incident.close(state, now)
            log.info("incident %s closed: %s", incident.id, incident.message)


def acknowledge(cmd: commands.AcknowledgeIncident, uow: UnitOfWork, now: datetime) -> list[Alert]:
    """The incident and every open alert under it, acknowledged by the same person at once;
    returns those alerts (their notices go to the outbox)."""
    incident = uow.get_incident(cmd.incident_id)
    if incident is None:
        raise IncidentNotFound(f"incident {cmd.incident_id} not found")
    try:
        incident.acknowledge(cmd.by, cmd.comment, now)
    except IncidentError as exc:
        raise IncidentClosed(str(exc)) from None
    assert incident.id is not None
    acked = [alert for alert in uow.incident_alerts(incident.id) if alert.is_open]
    for alert in acked:
        alert.acknowledge(cmd.by, cmd.comment, now)
    return acked


def enqueue_incident_notices(uow: UnitOfWork, now: datetime) -> None:
    """One outbox row per channel for each incident that changed in this transaction."""
    for incident in uow.incidents_seen:
        if not incident.notices:
            continue
        incident.notices.clear()
        assert incident.id is not None
        payload = encode(to_payload(incident, uow.incident_alerts(incident.id))).decode()
        enqueue(uow, incident.version, payload, now, incident_id=incident.id)


def to_payload(incident: Incident, alerts: list[Alert]) -> IncidentNotice:
    """The contract's view of one version of an incident, with the orders it affects."""
    assert incident.id is not None
    return IncidentNotice(
        incident_id=incident.id,
        version=incident.version,
        event=incident.last_event,  # type: ignore[arg-type]
        machine_id=incident.machine_id,
        cause=incident.cause,
        state=incident.state.value,
        reason=incident.reason,
        reason_code=incident.reason_code,
        started_at=incident.started_at,
        opened_at=incident.opened_at,
        updated_at=incident.updated_at,
        message=incident.message,
        acknowledged_by=incident.acked_by,
        acknowledged_at=incident.acked_at,
        ack_comment=incident.ack_comment,
        closed_at=incident.closed_at,
        orders=[
            IncidentOrder(
                order_id=a.order_id,
                alert_id=a.id or 0,
                alert_state=a.state.value,
                schedule_status=a.schedule_status.value,
            )
            for a in alerts
        ],
    )
