"""What a customer is told about a delay: its cause in their words, and an ETA range.

No machine names, alarm codes or internal reasons: a `kind` the customer page translates and a
plain English `text`. The cause, the first that applies, of an open order that is at risk or
late (or whose ETA is past its due date):

- `breakdown`: a machine working its current operation is DOWN;
- `interruption`: one is OFFLINE (the tracker does not hear from it);
- `capacity`: its current operation has not started and the plan starts it later than now
  (it waits for a free machine or a shift);
- `slow`: its current operation runs slower than planned;
- `behind`: none of these (for example a late start), it is behind schedule.

The ETA range: the ETA is the later of the plan's end for the order and its own projection
from now (see `eta_with_plan`); the earlier of the two is the range's start. While a machine of
its current operation is stopped, the plan takes it as back after SHOPFLOOR_DOWN_ALLOWANCE_S;
the repair may take as long again, so the range ends that much after the ETA. A range is given
only when it spans at least a minute and a tenth of the time from now to the ETA.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from .model import Order
from .schedule import ScheduleStatus

_TEXT = {
    "breakdown": "a machine breakdown is holding up your order; we are working on it",
    "interruption": "production of your order is interrupted for the moment",
    "capacity": "your order is waiting for a free machine",
    "slow": "production of your order is running slower than planned",
    "behind": "your order is behind schedule",
}


@dataclass(frozen=True)
class Delay:
    kind: str
    text: str


def delay_of(
    order: Order,
    now: datetime,
    eta: datetime,
    machine_states: Mapping[str, str],
    planned_start: datetime | None,
) -> Delay | None:
    """The customer's reason for a delay, None when there is none to tell."""
    op = order.current
    behind = order.schedule_status is not ScheduleStatus.ON_TRACK or eta > order.due_at
    if not order.is_open or op is None or not behind:
        return None
    states = set(machine_states.values())
    kind = "behind"
    if "DOWN" in states:
        kind = "breakdown"
    elif "OFFLINE" in states:
        kind = "interruption"
    elif op.started_at is None and planned_start is not None and planned_start > now:
        kind = "capacity"
    elif op.observed_cycle_s is not None and op.observed_cycle_s > op.cycle_s:
        kind = "slow"
    return Delay(kind, _TEXT[kind])


def eta_range(
    now: datetime,
    projected: datetime,
    planned: datetime | None,
    stopped: bool,
    down_allowance_s: float,
) -> tuple[datetime, datetime] | None:
    """(earliest, latest) when the ETA is uncertain, else None (see the module's rule)."""
    eta = max(projected, planned) if planned is not None else projected
    earliest = min(projected, planned) if planned is not None else projected
    latest = eta + timedelta(seconds=down_allowance_s) if stopped else eta
    spread = (latest - earliest).total_seconds()
    if spread < max(60.0, 0.1 * (eta - now).total_seconds()):
        return None
    return earliest, latest
