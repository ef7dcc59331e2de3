"""Schedule assessment and the alert lifecycle: schedule events in, alerts and deliveries out."""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo

from shopfloor.contract.payloads import OrderAlert, encode
from tracker.domain import commands, events
from tracker.domain.alerts import LATE_ORDER, Alert, AlertError
from tracker.domain.model import DomainError, Order
from tracker.domain.schedule import STOPPED_STATES, ScheduleStatus
from tracker.domain.wording import at

from . import incident_handlers
from .order_checks import check_open_orders
from .outbox import enqueue
from .unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class AlertNotFound(DomainError):
    """No alert with this id."""


class AlertClosed(DomainError):
    """The alert was cleared: there is nothing left to acknowledge."""


def assess_touched_orders(uow: UnitOfWork, now: datetime) -> set[str]:
    """Assess every order the command touched and those at machines that went down or came back.

    Runs once per command, after its handler, so a machine going DOWN or OFFLINE (or coming
    back) re-assesses the orders at that machine without the machine handlers knowing about
    alerts; RUNNING/IDLE/SETUP changes and cycles re-assess only the command's own orders,
    since the schedule status does not depend on them. Returns the machines that went down or
    came back (the plan is out of date).
    """
    changes = uow.machine_state_changes()
    availability = {
        machine_id
        for machine_id, (before, now_state) in changes.items()
        if (before in STOPPED_STATES) != (now_state in STOPPED_STATES)
    }
    back = {m: str(changes[m][1]) for m in availability if changes[m][1] not in STOPPED_STATES}
    if back:
        incident_handlers.close_incidents(back, uow, now)
    uow.orders_working_on(availability)  # loads (and locks) them into uow.seen
    plan = uow.plan
    for order in list(uow.seen):
        planned = plan.eta(order.order_id) if plan is not None else None
        odds = uow.odds.get(order.order_id)
        order.assess_schedule(now, _machines_of(order, uow), uow.policy.rules, planned, odds)
    return availability


def _machines_of(order: Order, uow: UnitOfWork) -> dict[str, str]:
    """The states of the machines that work the order's current operation."""
    op = order.current
    if op is None:
        return {}
    return {
        machine_id: state
        for machine_id, state, bound_order, bound_seq in uow.machines()
        if machine_id == op.machine or (bound_order, bound_seq) == (order.order_id, op.seq)
    }


def check_orders(cmd: commands.CheckOrders, uow: UnitOfWork, now: datetime) -> None:
    """The periodic check (and the one after each replan): every open order is assessed from a
    light read; those with news are loaded (and locked) for the bus to assess and alert on."""
    check_open_orders(uow, now, uow.plan)


ScheduleEvent = events.OrderFellBehind | events.OrderBackOnTrack | events.OrderScheduleUpdated


def reconcile_alert(event: ScheduleEvent, uow: UnitOfWork, now: datetime) -> None:
    """Bring the order's alert in line with its schedule status: raise, refresh or clear.

    Idempotent: it compares with the stored alert (locked), so an event and the periodic
    check assessing the same order never raise two alerts.
    """
    status = ScheduleStatus(event.status)
    alert = uow.active_alert(event.order_id, LATE_ORDER)
    if status is ScheduleStatus.ON_TRACK:
        if alert is not None:
            alert.clear(
                "back on track: " + _eta_note(event.eta, event.due_at, uow.policy.rules.tz),
                now,
                event.eta,
            )
    elif alert is None:
        alert = Alert.raise_for(event.order_id, status, event.reasons, event.eta, event.due_at, now)
        uow.add_alert(alert)
        log.warning("alert %d raised: %s", alert.id, alert.message)
    else:
        alert.refresh(status, event.reasons, event.eta, event.due_at, now)
    if alert is not None and alert.is_open:
        order = uow.get_order(event.order_id)
        if order is not None:
            incident_handlers.link_alert(alert, _machines_of(order, uow), uow, now)
    if alert is not None:
        enqueue_notices(alert, uow, now)


def clear_on_completion(event: events.OrderCompleted, uow: UnitOfWork, now: datetime) -> None:
    alert = uow.active_alert(event.order_id, LATE_ORDER)
    order = uow.get_order(event.order_id)
    if alert is None or order is None:
        return
    status, note = ScheduleStatus.ON_TRACK, "completed on time"
    if event.at > order.due_at:
        status, note = ScheduleStatus.LATE, "completed, after its due date"
    alert.clear(f"{note} ({at(event.at, uow.policy.rules.tz)})", now, event.at, status)
    enqueue_notices(alert, uow, now)


def clear_on_cancellation(event: events.OrderCancelled, uow: UnitOfWork, now: datetime) -> None:
    """A cancelled order has nothing left to be late for: its open alert clears."""
    alert = uow.active_alert(event.order_id, LATE_ORDER)
    if alert is None:
        return
    why = f"order cancelled ({at(event.at, uow.policy.rules.tz)}): {event.reason}"
    alert.clear(why, now, status=alert.schedule_status)
    enqueue_notices(alert, uow, now)


def acknowledge_alert(cmd: commands.AcknowledgeAlert, uow: UnitOfWork, now: datetime) -> None:
    alert = uow.get_alert(cmd.alert_id)
    if alert is None:
        raise AlertNotFound(f"alert {cmd.alert_id} not found")
    try:
        alert.acknowledge(cmd.by, cmd.comment, now)
    except AlertError as exc:
        raise AlertClosed(str(exc)) from None
    enqueue_notices(alert, uow, now)


def acknowledge_incident(cmd: commands.AcknowledgeIncident, uow: UnitOfWork, now: datetime) -> None:
    """The incident and its open alerts: each alert's acknowledgement is delivered as usual."""
    for alert in incident_handlers.acknowledge(cmd, uow, now):
        enqueue_notices(alert, uow, now)


def enqueue_notices(alert: Alert, uow: UnitOfWork, now: datetime) -> None:
    """One outbox row per channel for each transition the alert recorded (its new version)."""
    if not alert.notices:
        return
    alert.notices.clear()
    assert alert.id is not None
    enqueue(uow, alert.version, encode(to_payload(alert)).decode(), now, alert_id=alert.id)


def to_payload(alert: Alert) -> OrderAlert:
    """The contract's view of one version of an alert."""
    assert alert.id is not None
    return OrderAlert(
        alert_id=alert.id,
        version=alert.version,
        event=alert.last_event,  # type: ignore[arg-type]
        order_id=alert.order_id,
        kind=alert.kind,
        state=alert.state.value,
        severity=alert.severity.value,
        schedule_status=alert.schedule_status.value,
        reasons=list(alert.reasons),
        eta=alert.eta,
        due=alert.due_at,
        raised_at=alert.raised_at,
        updated_at=alert.updated_at,
        message=alert.message,
        acknowledged_by=alert.acked_by,
        acknowledged_at=alert.acked_at,
        ack_comment=alert.ack_comment,
        cleared_at=alert.cleared_at,
    )


def _eta_note(eta: datetime, due_at: datetime, tz: tzinfo) -> str:
    return f"projected to finish {at(eta, tz)}, due {at(due_at, tz)}"
