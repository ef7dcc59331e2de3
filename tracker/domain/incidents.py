"""One incident per cause: a stopped machine, the alarm that came with the stop, its orders.

A machine that is DOWN or OFFLINE (both stop its orders: `schedule.STOPPED_STATES`) opens one
incident the first time an order's alert names it; the alerts of every order it puts at risk or
late hang under it. The incident closes when the machine runs again. Like an alert, each
delivered transition bumps `version`; the transitions of one transaction are delivered as one
version (a machine delaying three orders is one `opened` notice, not one per order).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from enum import StrEnum

from .schedule import STOPPED_STATES
from .wording import at

# an alarm raised this long before the stop (or any time after it) is the stop's reason
ALARM_WINDOW_S = 120.0


class IncidentState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class IncidentError(ValueError):
    """A transition that does not fit the incident's state (acknowledging a closed one)."""


@dataclass(frozen=True)
class AlarmNote:
    """An alarm a machine reported: its code, text and device time."""

    code: str
    message: str
    raised_at: datetime


def stopped_machine(machine_states: Mapping[str, str]) -> tuple[str, str] | None:
    """The (machine, state) that stops an order's operation, if any: the first by name."""
    for machine_id, state in sorted(machine_states.items()):
        if state in STOPPED_STATES:
            return machine_id, state
    return None


def reason_of(
    alarms: Iterable[AlarmNote], since: datetime | None, window_s: float = ALARM_WINDOW_S
) -> AlarmNote | None:
    """The alarm that came with a stop starting at `since`: the newest one near or after it."""
    near = [
        a for a in alarms if since is None or (a.raised_at - since).total_seconds() >= -window_s
    ]
    return max(near, key=lambda a: a.raised_at, default=None)


@dataclass(eq=False)
class Incident:
    """One stopped machine and the orders it delays, from opened to closed."""

    machine_id: str
    cause: str  # the machine's state when the incident opened: DOWN or OFFLINE
    state: IncidentState
    started_at: datetime  # when the machine stopped (its state's start), else when opened
    opened_at: datetime
    updated_at: datetime
    message: str
    reason: str | None = None
    reason_code: str | None = None
    version: int = 1
    last_event: str = "opened"
    acked_by: str | None = None
    acked_at: datetime | None = None
    ack_comment: str | None = None
    closed_at: datetime | None = None
    id: int | None = None
    notices: list[str] = field(default_factory=list)

    @classmethod
    def open_for(
        cls,
        machine_id: str,
        cause: str,
        since: datetime | None,
        alarm: AlarmNote | None,
        now: datetime,
        tz: tzinfo = UTC,
    ) -> Incident:
        """A new open incident for a machine that stopped at `since` (None: not known)."""
        if cause not in STOPPED_STATES:
            raise IncidentError(f"machine {machine_id} is {cause}: not stopped")
        started = since or now
        reason = alarm.message if alarm is not None else None
        code = alarm.code if alarm is not None else None
        incident = cls(
            machine_id=machine_id,
            cause=cause,
            state=IncidentState.OPEN,
            started_at=started,
            opened_at=now,
            updated_at=now,
            message=describe(machine_id, cause, started, code, reason, tz),
            reason=reason,
            reason_code=code,
        )
        incident.notices.append("opened")
        return incident

    @property
    def is_open(self) -> bool:
        return self.state is not IncidentState.CLOSED

    def _notice(self, event: str, now: datetime) -> None:
        """Record a transition; those of one transaction coalesce into one version.

        An incident opened and grown in the same transaction is still delivered as `opened`
        (unless it also closed).
        """
        self.updated_at = now
        if not self.notices:
            self.version += 1
            self.last_event = event
        elif self.last_event != "opened" or event == "closed":
            self.last_event = event
        self.notices.append(event)

    def order_affected(self, now: datetime) -> None:
        """Another order's alert now hangs under the incident."""
        if not self.is_open:
            raise IncidentError(f"incident {self.id} is closed")
        self._notice("updated", now)

    def alarm_heard(
        self, code: str | None, text: str | None, now: datetime, tz: tzinfo = UTC
    ) -> bool:
        """The stop's alarm, heard after the incident opened (bridges often send the state
        first): it becomes the reason when there is none yet. True when it did."""
        if not self.is_open or self.reason is not None or self.reason_code is not None:
            return False
        self.reason, self.reason_code = text, code
        self.message = describe(self.machine_id, self.cause, self.started_at, code, text, tz)
        self._notice("updated", now)
        return True

    def acknowledge(self, by: str, comment: str | None, now: datetime) -> bool:
        """A supervisor has seen it; False when it already was (the first ack is kept)."""
        if not self.is_open:
            raise IncidentError(f"incident {self.id} is already closed")
        if self.state is IncidentState.ACKNOWLEDGED:
            return False
        self.state = IncidentState.ACKNOWLEDGED
        self.acked_by, self.acked_at, self.ack_comment = by, now, comment
        self._notice("acknowledged", now)
        return True

    def close(self, back_as: str, now: datetime) -> None:
        """The machine runs again (`back_as`); a closed incident stays closed."""
        if not self.is_open:
            return
        self.state = IncidentState.CLOSED
        self.closed_at = now
        self.message = f"machine {self.machine_id} is {back_as} again (was {self.cause})"
        self._notice("closed", now)


def describe(
    machine_id: str,
    cause: str,
    since: datetime,
    code: str | None,
    reason: str | None,
    tz: tzinfo = UTC,
) -> str:
    """One line for people: `machine M3 is DOWN since 10:02 CET: E-42 spindle overload`."""
    why = " ".join(x for x in (code, reason) if x)
    return f"machine {machine_id} is {cause} since {at(since, tz)}" + (f": {why}" if why else "")
