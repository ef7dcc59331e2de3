"""Order statuses and one routed operation: the parts of an order that stand alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class OrderStatus(StrEnum):
    RECEIVED = "received"
    RELEASED = "released"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


# orders still to be made: the periodic check and the alerts look at these only
OPEN_STATUSES = frozenset({OrderStatus.RECEIVED, OrderStatus.RELEASED, OrderStatus.IN_PROGRESS})
# the same, as stored (and queried) in the orders table, in a stable order
OPEN_STATUS_VALUES = tuple(sorted(status.value for status in OPEN_STATUSES))


class OperationState(StrEnum):
    PENDING = "pending"  # later in the routing
    ACTIVE = "active"  # the order's current operation, waiting for its machine
    RUNNING = "running"  # a machine has started the job
    COMPLETED = "completed"


# weight of the newest observation in the running-average cycle time
_CYCLE_EMA_ALPHA = 0.3


def remaining_work_s(
    started: bool, setup_s: float, cycle_s: float, observed_cycle_s: float | None, left: int
) -> float:
    """Setup still to do plus the parts left at the observed (else planned) cycle time."""
    return (0.0 if started else setup_s) + (observed_cycle_s or cycle_s) * max(left, 0)


@dataclass(eq=False)
class Operation:
    """One step of an order's routing on a machine; work content = setup + cycle x quantity."""

    seq: int
    name: str
    machine: str
    setup_s: float
    cycle_s: float
    quantity: int
    good_qty: int = 0
    state: OperationState = OperationState.PENDING
    started_at: datetime | None = None
    completed_at: datetime | None = None
    observed_cycle_s: float | None = None
    last_count_at: datetime | None = None
    scrap_qty: int = 0

    @property
    def planned_s(self) -> float:
        return self.setup_s + self.cycle_s * self.quantity

    @property
    def done_s(self) -> float:
        if self.state is OperationState.COMPLETED:
            return self.planned_s
        if self.started_at is None:
            return 0.0
        return self.setup_s + self.cycle_s * min(self.good_qty, self.quantity)

    def remaining_s(self) -> float:
        """Work left, projected from the observed cycle time once there is one."""
        if self.state is OperationState.COMPLETED:
            return 0.0
        return remaining_work_s(
            self.started_at is not None,
            self.setup_s,
            self.cycle_s,
            self.observed_cycle_s,
            self.quantity - self.good_qty,
        )

    @property
    def percent(self) -> float:
        return 100.0 * self.done_s / self.planned_s if self.planned_s else 100.0

    def _observe(self, parts: int, at: datetime, cycle_time_s: float | None) -> None:
        sample = cycle_time_s
        if sample is None and self.last_count_at is not None and at > self.last_count_at:
            sample = (at - self.last_count_at).total_seconds() / parts
        if sample is not None and sample > 0:
            prev = self.observed_cycle_s
            self.observed_cycle_s = (
                sample
                if prev is None
                else (_CYCLE_EMA_ALPHA * sample + (1 - _CYCLE_EMA_ALPHA) * prev)
            )
        self.last_count_at = at
