"""Orders and their routed operations: how machine events move an order forward."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from . import events
from .errors import DomainError as DomainError
from .errors import aware as _aware
from .operation import OPEN_STATUS_VALUES as OPEN_STATUS_VALUES
from .operation import OPEN_STATUSES as OPEN_STATUSES
from .operation import Operation as Operation
from .operation import OperationState as OperationState
from .operation import OrderStatus as OrderStatus
from .operation import remaining_work_s as remaining_work_s
from .schedule import (
    ActiveOperation,
    OnTimeOdds,
    ScheduleRules,
    ScheduleStatus,
    assess,
    completion_note,
    eta_with_plan,
    schedule_news,
)


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
    schedule_reasons: list[str] = field(default_factory=list)
    eta: datetime | None = None
    completed_at: datetime | None = None
    released_at: datetime | None = None
    started_at: datetime | None = None
    shipped_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
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

    def release(self, at: datetime) -> None:
        """Make the first operation the active one; the order can now be worked."""
        _aware(at)
        if self.status is OrderStatus.RECEIVED:
            self.status = OrderStatus.RELEASED
            self.released_at = at
            self.operations[0].state = OperationState.ACTIVE

    @property
    def is_open(self) -> bool:
        """Still to be made: neither completed, shipped nor cancelled."""
        return self.status in OPEN_STATUSES

    def _refuse_unless_open(self, action: str) -> None:
        if not self.is_open:
            raise DomainError(f"order {self.order_id} is {self.status.value}: cannot {action}")

    def ship(self, at: datetime) -> None:
        """The completed order left the plant."""
        _aware(at)
        if self.status is not OrderStatus.COMPLETED:
            raise DomainError(
                f"order {self.order_id} is {self.status.value}: only a completed order ships"
            )
        self.status, self.shipped_at = OrderStatus.SHIPPED, at
        self.events.append(events.OrderShipped(self.order_id, at))

    def cancel(self, reason: str, at: datetime) -> None:
        """Stop the order for good, whatever was made; a shipped order cannot be cancelled."""
        _aware(at)
        reason = reason.strip()
        if not reason:
            raise DomainError(f"cancelling order {self.order_id} needs a reason")
        if self.status in (OrderStatus.SHIPPED, OrderStatus.CANCELLED):
            raise DomainError(
                f"order {self.order_id} is {self.status.value}: it cannot be cancelled"
            )
        self.status, self.cancelled_at, self.cancel_reason = OrderStatus.CANCELLED, at, reason
        self.events.append(events.OrderCancelled(self.order_id, reason, at))

    @property
    def made_qty(self) -> int:
        """The most good parts any operation has made: the quantity cannot go below it."""
        return max(op.good_qty for op in self.operations)

    def change_quantity(self, quantity: int, at: datetime) -> None:
        """Set the order's and every operation's quantity, then re-check completion.

        Lowering it to what an operation has made completes that operation (and the order when
        it was the last); raising it above what a completed operation made reopens it.
        """
        _aware(at)
        self._refuse_unless_open("change its quantity")
        if quantity < 1:
            raise DomainError(f"order {self.order_id}: quantity must be at least 1")
        if quantity < self.made_qty:
            raise DomainError(
                f"order {self.order_id}: quantity {quantity} is below the {self.made_qty} "
                "parts already made"
            )
        self.quantity = quantity
        for op in self.operations:
            op.quantity = quantity
            if op.state is OperationState.COMPLETED and op.good_qty < quantity:
                op.state, op.completed_at = OperationState.ACTIVE, None
        for op in self.operations:
            if op.state is not OperationState.COMPLETED and op.good_qty >= quantity:
                self._complete(op, at)
        # one active operation: the current one; later ones not started wait again
        nxt = self.current
        for op in self.operations if self.status is not OrderStatus.RECEIVED else ():
            if op is nxt and op.state is OperationState.PENDING:
                op.state = OperationState.ACTIVE
            elif op is not nxt and op.state is OperationState.ACTIVE and op.started_at is None:
                op.state = OperationState.PENDING

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
        self._refuse_unless_open("start an operation")
        self.release(at)
        op = self.operation(seq)
        if op.state is OperationState.COMPLETED:
            raise DomainError(f"operation {seq} of order {self.order_id} is already completed")
        if op.state is not OperationState.RUNNING:
            op.state = OperationState.RUNNING
            if op.started_at is None:
                op.started_at = at
                self.events.append(events.OperationStarted(self.order_id, seq, at))
        self.status = OrderStatus.IN_PROGRESS
        self.started_at = self.started_at or at
        return op

    def record_good(
        self,
        seq: int,
        parts: int,
        at: datetime,
        cycle_time_s: float | None = None,
        observe: bool = True,
    ) -> int:
        """Add good parts to operation `seq`; returns how many counted (never past quantity).

        `observe` False: parts counted late (a backlog) say nothing of the cycle time.
        """
        _aware(at)
        op = self.operation(seq)
        if op.state is OperationState.COMPLETED or parts <= 0:
            return 0
        self._refuse_unless_open("count parts")
        if op.state is not OperationState.RUNNING:
            self.start_operation(seq, at)
        counted = min(parts, op.quantity - op.good_qty)
        if observe:
            op._observe(parts, at, cycle_time_s)
        op.good_qty += counted
        if op.good_qty >= op.quantity:
            self._complete(op, at)
        return counted

    def record_scrap(self, seq: int, parts: int, at: datetime) -> int:
        """Add scrapped parts to operation `seq` (even once it completed); they never count as
        progress."""
        _aware(at)
        op = self.operation(seq)
        if parts <= 0:
            return 0
        op.scrap_qty += parts
        return parts

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

    def assess_schedule(
        self,
        now: datetime,
        machine_states: Mapping[str, str],
        rules: ScheduleRules,
        planned_eta: datetime | None = None,
        odds: OnTimeOdds | None = None,
    ) -> ScheduleStatus:
        """Set the schedule status, its reasons and the ETA; record an event when there is news.

        `machine_states` maps the machines that work the current operation to their state;
        `planned_eta` is the order's end in the current plan (queues and calendars included):
        the ETA is the later of it and the order's own projection from now, so a plan made a
        while ago never promises what the remaining work can no longer make.
        A status that worsens is `OrderFellBehind`, one back to on track `OrderBackOnTrack`,
        anything else while not on track (new reasons, a fresh ETA) `OrderScheduleUpdated`.
        A completed order is not assessed any more: it keeps late or on track for good; a
        cancelled one keeps the status it had, with no event.
        """
        _aware(now)
        if self.status is OrderStatus.CANCELLED:
            return self.schedule_status
        if self.completed_at is not None:
            self.eta = self.completed_at
            late = self.completed_at > self.due_at
            self.schedule_status = ScheduleStatus.LATE if late else ScheduleStatus.ON_TRACK
            self.schedule_reasons = list(completion_note(self.completed_at, self.due_at, rules.tz))
            return self.schedule_status
        eta = eta_with_plan(self.project(now), planned_eta)
        op = self.current
        active = (
            ActiveOperation(op.seq, op.name, op.cycle_s, op.observed_cycle_s, machine_states)
            if op is not None
            else None
        )
        result = assess(eta, self.due_at, now, active, rules, self.schedule_status, odds)
        news = schedule_news(self.schedule_status, self.schedule_reasons, self.eta, result, eta)
        self.eta, self.schedule_status, self.schedule_reasons = (
            eta,
            result.status,
            list(result.reasons),
        )
        if news is not None:
            self.events.append(
                news(self.order_id, result.status.value, eta, self.due_at, result.reasons, now)
            )
        return result.status
