"""The late-order alert lifecycle: raised, updated, escalated, acknowledged, cleared.

One active alert per order and kind. Each transition people must hear about (raised,
escalated, acknowledged, cleared) bumps `version` and is recorded in `notices`, so the
outbox delivers it once per channel; a refresh of ETA and reasons does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from .schedule import ScheduleRules, ScheduleStatus, summary

LATE_ORDER = "late"  # the kind of the schedule alert; at_risk and late are its severities


class AlertState(StrEnum):
    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"


class Severity(StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"


class AlertError(ValueError):
    """A transition that does not fit the alert's state (acknowledging a cleared alert)."""


@dataclass(frozen=True)
class AlertPolicy:
    """When orders count as at risk, and where their alerts go besides the MQTT topic."""

    rules: ScheduleRules = ScheduleRules()
    webhook_urls: tuple[str, ...] = ()


def severity_of(status: ScheduleStatus) -> Severity:
    return Severity.CRITICAL if status is ScheduleStatus.LATE else Severity.WARNING


@dataclass(eq=False)
class Alert:
    """One alert of one kind for one order, from raised to cleared."""

    order_id: str
    kind: str
    state: AlertState
    severity: Severity
    schedule_status: ScheduleStatus
    reasons: list[str]
    eta: datetime | None
    due_at: datetime
    raised_at: datetime
    updated_at: datetime
    message: str
    version: int = 1
    last_event: str = "raised"
    acked_by: str | None = None
    acked_at: datetime | None = None
    ack_comment: str | None = None
    cleared_at: datetime | None = None
    id: int | None = None
    incident_id: int | None = None  # the incident (a stopped machine) this alert hangs under
    notices: list[str] = field(default_factory=list)

    @classmethod
    def raise_for(
        cls,
        order_id: str,
        status: ScheduleStatus,
        reasons: tuple[str, ...],
        eta: datetime | None,
        due_at: datetime,
        now: datetime,
        kind: str = LATE_ORDER,
    ) -> Alert:
        """A new active alert for an order whose schedule status just worsened."""
        if status is ScheduleStatus.ON_TRACK:
            raise AlertError(f"order {order_id} is on track: nothing to alert")
        alert = cls(
            order_id=order_id,
            kind=kind,
            state=AlertState.ACTIVE,
            severity=severity_of(status),
            schedule_status=status,
            reasons=list(reasons),
            eta=eta,
            due_at=due_at,
            raised_at=now,
            updated_at=now,
            message=summary(order_id, status, reasons),
        )
        alert.notices.append("raised")
        return alert

    @property
    def is_open(self) -> bool:
        return self.state is not AlertState.CLEARED

    def _notice(self, event: str, now: datetime) -> None:
        self.version += 1
        self.last_event = event
        self.updated_at = now
        self.notices.append(event)

    def refresh(
        self,
        status: ScheduleStatus,
        reasons: tuple[str, ...],
        eta: datetime | None,
        due_at: datetime,
        now: datetime,
    ) -> None:
        """The order is still not on track: keep one alert, escalate it when it turned late.

        Severity only goes up while the alert lasts, so an ETA flapping around the due date
        does not notify again; an escalation needs a new acknowledgement.
        """
        if not self.is_open:
            raise AlertError(f"alert {self.id} is cleared")
        if status is ScheduleStatus.ON_TRACK:
            raise AlertError("an order back on track clears its alert")
        self.schedule_status = status
        self.reasons = list(reasons)
        self.eta, self.due_at, self.updated_at = eta, due_at, now
        self.message = summary(self.order_id, status, reasons)
        if severity_of(status) is Severity.CRITICAL and self.severity is Severity.WARNING:
            self.severity = Severity.CRITICAL
            self.state = AlertState.ACTIVE
            self._notice("escalated", now)

    def acknowledge(self, by: str, comment: str | None, now: datetime) -> None:
        """A supervisor has seen it; acknowledging twice keeps the first acknowledgement."""
        if not self.is_open:
            raise AlertError(f"alert {self.id} is already cleared")
        if self.state is AlertState.ACKNOWLEDGED:
            return
        self.state = AlertState.ACKNOWLEDGED
        self.acked_by, self.acked_at, self.ack_comment = by, now, comment
        self._notice("acknowledged", now)

    def clear(
        self,
        why: str,
        now: datetime,
        eta: datetime | None = None,
        status: ScheduleStatus = ScheduleStatus.ON_TRACK,
    ) -> None:
        """The order recovered or completed; a cleared alert stays cleared."""
        if not self.is_open:
            return
        self.state = AlertState.CLEARED
        self.cleared_at = now
        self.schedule_status = status
        self.reasons = [why]
        self.eta = eta if eta is not None else self.eta
        self.message = f"order {self.order_id}: {why}"
        self._notice("cleared", now)
