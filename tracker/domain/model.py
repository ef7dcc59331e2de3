"""Orders, their routed operations and machines: how machine events move an order forward."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from . import events


class DomainError(ValueError):
    """A command that does not fit the current state (unknown operation, finished order...)."""


class OrderStatus(StrEnum):
    RECEIVED = "received"
    RELEASED = "released"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class ScheduleStatus(StrEnum):
    ON_TRACK = "on_track"
    LATE = "late"


class OperationState(StrEnum):
    PENDING = "pending"  # later in the routing
    ACTIVE = "active"  # the order's current operation, waiting for its machine
    RUNNING = "running"  # a machine has started the job
    COMPLETED = "completed"


def _aware(at: datetime) -> None:
    if at.tzinfo is None:
        raise DomainError("times must be timezone-aware")


# weight of the newest observation in the running-average cycle time
_CYCLE_EMA_ALPHA = 0.3


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
        rate = self.observed_cycle_s or self.cycle_s
        setup = 0.0 if self.started_at is not None else self.setup_s
        return setup + rate * max(self.quantity - self.good_qty, 0)

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


@dataclass(eq=False)
class Order:
    """A customer order and its routing; the aggregate every machine event updates."""

    order_id: str
    customer: str
    product: str
    quantity: int
    due_at: datetime
    operations: list[Operation]
    created_at: datetime
    priority: int = 0
    token_hash: str = ""
    status: OrderStatus = OrderStatus.RECEIVED
    schedule_status: ScheduleStatus = ScheduleStatus.ON_TRACK
    eta: datetime | None = None
    completed_at: datetime | None = None
    events: list[events.Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        seqs = [op.seq for op in self.operations]
        if not self.operations:
            raise DomainError(f"order {self.order_id} needs at least one operation")
        if len(set(seqs)) != len(seqs):
            raise DomainError(f"order {self.order_id} repeats an operation number")
        if self.due_at.tzinfo is None or self.created_at.tzinfo is None:
            raise DomainError("times must be timezone-aware")
        self.operations.sort(key=lambda op: op.seq)

    def release(self) -> None:
        """Make the first operation the active one; the order can now be worked."""
        if self.status is OrderStatus.RECEIVED:
            self.status = OrderStatus.RELEASED
            self.operations[0].state = OperationState.ACTIVE

    def operation(self, seq: int) -> Operation:
        for op in self.operations:
            if op.seq == seq:
                return op
        raise DomainError(f"order {self.order_id} has no operation {seq}")

    @property
    def current(self) -> Operation | None:
        return next(
            (op for op in self.operations if op.state is not OperationState.COMPLETED), None
        )

    def start_operation(self, seq: int, at: datetime) -> Operation:
        """A machine began working operation `seq`."""
        _aware(at)
        if self.status is OrderStatus.COMPLETED:
            raise DomainError(f"order {self.order_id} is already completed")
        self.release()
        op = self.operation(seq)
        if op.state is OperationState.COMPLETED:
            raise DomainError(f"operation {seq} of order {self.order_id} is already completed")
        if op.state is not OperationState.RUNNING:
            op.state = OperationState.RUNNING
            op.started_at = op.started_at or at
        self.status = OrderStatus.IN_PROGRESS
        return op

    def record_good(
        self, seq: int, parts: int, at: datetime, cycle_time_s: float | None = None
    ) -> int:
        """Add good parts to operation `seq`; returns how many counted (never past quantity)."""
        _aware(at)
        op = self.operation(seq)
        if op.state is OperationState.COMPLETED or parts <= 0:
            return 0
        if op.state is not OperationState.RUNNING:
            self.start_operation(seq, at)
        counted = min(parts, op.quantity - op.good_qty)
        op._observe(parts, at, cycle_time_s)
        op.good_qty += counted
        if op.good_qty >= op.quantity:
            self._complete(op, at)
        return counted

    def _complete(self, op: Operation, at: datetime) -> None:
        op.state = OperationState.COMPLETED
        op.completed_at = at
        self.events.append(events.OperationCompleted(self.order_id, op.seq, at))
        nxt = self.current
        if nxt is None:
            self.status = OrderStatus.COMPLETED
            self.completed_at = at
            self.eta = at
            self.events.append(events.OrderCompleted(self.order_id, at))
        elif nxt.state is OperationState.PENDING:
            nxt.state = OperationState.ACTIVE

    @property
    def percent(self) -> float:
        planned = sum(op.planned_s for op in self.operations)
        done = sum(op.done_s for op in self.operations)
        return min(100.0, 100.0 * done / planned) if planned else 100.0

    def project(self, now: datetime) -> datetime:
        """ETA: now plus the remaining work of every open operation, worked one after another."""
        if self.completed_at is not None:
            return self.completed_at
        return now + timedelta(seconds=sum(op.remaining_s() for op in self.operations))

    def check_schedule(self, now: datetime) -> ScheduleStatus:
        """Re-project the ETA; record an event only when the on-track/late status changes."""
        _aware(now)
        self.eta = self.project(now)
        status = ScheduleStatus.LATE if self.eta > self.due_at else ScheduleStatus.ON_TRACK
        if status is not self.schedule_status:
            self.schedule_status = status
            cls = (
                events.OrderFellBehind if status is ScheduleStatus.LATE else events.OrderBackOnTrack
            )
            self.events.append(cls(self.order_id, self.eta, self.due_at, now))
        return status


@dataclass(eq=False)
class Machine:
    """A machine's last known state, its PLC counter and the job it is bound to."""

    machine_id: str
    state: str = "IDLE"
    last_counter: int | None = None
    last_seen: datetime | None = None
    order_id: str | None = None
    seq: int | None = None

    def bind(self, order_id: str, seq: int) -> None:
        self.order_id, self.seq = order_id, seq

    def release(self, order_id: str, seq: int) -> None:
        if (self.order_id, self.seq) == (order_id, seq):
            self.order_id, self.seq = None, None

    def count(self, counter: int) -> int:
        """Parts made since the last counter value; 0 for a stale or repeated counter.

        The first counter a machine ever reports counts as one cycle: a cycle event is sent
        when a part is finished, but the previous counter value is unknown.
        """
        last = self.last_counter
        if last is not None and counter <= last:
            return 0
        self.last_counter = counter
        return 1 if last is None else counter - last
