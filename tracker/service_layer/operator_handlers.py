"""Scrap a person reports at a machine: counted to a job's operation (so OEE quality falls)
and logged with who and when."""

from __future__ import annotations

from datetime import datetime

from tracker.domain import commands
from tracker.domain.errors import DomainError
from tracker.domain.model import Order, OrderStatus

from .downtime_handlers import UnknownReason
from .job_binding import JobConflict, UnknownJob, known_machine
from .operator_log import record_action
from .unit_of_work import UnitOfWork

_GONE = (OrderStatus.SHIPPED, OrderStatus.CANCELLED)


def _job_of(cmd: commands.ReportScrap, uow: UnitOfWork) -> tuple[str, int]:
    """The job the scrap counts to: the one named, else the machine's, else its last one."""
    machine = known_machine(uow, cmd.machine_id)
    if cmd.order_id is not None:
        if cmd.seq is not None:
            return cmd.order_id, cmd.seq
        if machine.order_id == cmd.order_id and machine.seq is not None:
            return cmd.order_id, machine.seq
        raise UnknownJob(f"name the operation of order {cmd.order_id} the scrap is from")
    if machine.order_id is not None and machine.seq is not None:
        return machine.order_id, machine.seq
    last = uow.last_job(cmd.machine_id)
    if last is None:
        raise JobConflict(
            f"machine {cmd.machine_id} has worked no job to count scrap to: "
            "start one, or name the order and operation"
        )
    return last


def _order(uow: UnitOfWork, order_id: str, seq: int) -> Order:
    order = uow.get_order(order_id, for_update=True)
    if order is None:
        raise UnknownJob(f"unknown order {order_id}")
    if not any(op.seq == seq for op in order.operations):
        raise UnknownJob(f"order {order_id} has no operation {seq}")
    if order.status in _GONE:
        raise JobConflict(f"order {order_id} is {order.status.value}: no scrap can be counted")
    return order


def report_scrap(cmd: commands.ReportScrap, uow: UnitOfWork, now: datetime) -> None:
    """Count scrapped parts to an operation, for a reason of the plant's catalogue: they are
    parts made and lost (OEE quality), never progress; the machine's good count is kept."""
    if cmd.quantity < 1:
        raise DomainError(f"scrap must be at least 1 part, not {cmd.quantity}")
    reasons = uow.rules.downtime.catalogue.reasons
    if cmd.reason not in reasons:
        known = ", ".join(sorted(reasons)) or "none: the plant file declares no `reasons`"
        raise UnknownReason(f"unknown reason {cmd.reason!r} (reasons: {known})")
    order_id, seq = _job_of(cmd, uow)
    order = _order(uow, order_id, seq)
    order.record_scrap(seq, cmd.quantity, now)
    record_action(
        uow,
        now,
        cmd.machine_id,
        "scrap",
        cmd.by,
        cmd.role,
        order_id=order_id,
        seq=seq,
        quantity=cmd.quantity,
        reason=cmd.reason,
        comment=cmd.comment,
    )
