"""One handler per command and per domain event; they touch the domain through the unit of work."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tracker.adapters.database import UnitOfWork
from tracker.domain import commands, events
from tracker.domain.model import DomainError, Operation, Order

log = logging.getLogger(__name__)


class OrderExists(DomainError):
    """An order with this id is already stored."""


class ImportRejected(DomainError):
    """An import with bad rows; nothing of it was written."""

    def __init__(self, problems: list[commands.RowProblem]) -> None:
        rows = sorted({p.row for p in problems})
        super().__init__(f"{len(rows)} bad row(s): {', '.join(map(str, rows))}")
        self.problems = problems


def create_order(cmd: commands.CreateOrder, uow: UnitOfWork, now: datetime) -> None:
    if uow.get_order(cmd.order_id) is not None:
        raise OrderExists(f"order {cmd.order_id} already exists")
    uow.add_order(_new_order(cmd, now))


def import_orders(cmd: commands.ImportOrders, uow: UnitOfWork, now: datetime) -> None:
    """Check every row before adding any: one bad row rejects the whole import."""
    problems = list(cmd.rejected)
    first_row: dict[str, int] = {}
    orders = []
    for row, create in cmd.orders:
        oid = create.order_id
        if oid in first_row:
            reason = f"order {oid} repeats row {first_row[oid]}"
            problems.append(commands.RowProblem(row, reason, "order_id", oid))
            continue
        first_row[oid] = row
        if uow.get_order(oid) is not None:
            problems.append(
                commands.RowProblem(row, f"order {oid} already exists", "order_id", oid)
            )
            continue
        try:
            orders.append(_new_order(create, now))
        except DomainError as exc:
            problems.append(commands.RowProblem(row, str(exc), None, oid))
    if problems:
        raise ImportRejected(sorted(problems, key=lambda p: p.row))
    for order in orders:
        uow.add_order(order)


def _new_order(cmd: commands.CreateOrder, now: datetime) -> Order:
    ops = [
        Operation(
            seq=o.seq,
            name=o.name,
            machine=o.machine,
            setup_s=o.setup_s,
            cycle_s=o.cycle_s,
            quantity=cmd.quantity,
        )
        for o in cmd.operations
    ]
    order = Order(
        order_id=cmd.order_id,
        customer=cmd.customer,
        product=cmd.product,
        quantity=cmd.quantity,
        due_at=cmd.due_at,
        operations=ops,
        created_at=now,
        priority=cmd.priority,
        token_hash=cmd.token_hash,
    )
    order.release()
    order.check_schedule(now)
    return order


def start_job(cmd: commands.StartJob, uow: UnitOfWork, now: datetime) -> None:
    machine = uow.get_machine(cmd.machine_id)
    machine.last_seen = cmd.at
    order = _order(uow, cmd.order_id)
    if order is None:
        return
    order.start_operation(cmd.seq, cmd.at)
    machine.bind(cmd.order_id, cmd.seq)
    order.check_schedule(now)


def end_job(cmd: commands.EndJob, uow: UnitOfWork, now: datetime) -> None:
    machine = uow.get_machine(cmd.machine_id)
    machine.last_seen = cmd.at
    machine.release(cmd.order_id, cmd.seq)


def record_cycle(cmd: commands.RecordCycle, uow: UnitOfWork, now: datetime) -> None:
    machine = uow.get_machine(cmd.machine_id)
    machine.last_seen = cmd.at
    parts = machine.count(cmd.counter)
    order_id = cmd.order_id or machine.order_id
    seq = cmd.seq if cmd.order_id else machine.seq
    if parts == 0:
        log.info(
            "machine %s: counter %d is not past %s; nothing counted",
            cmd.machine_id,
            cmd.counter,
            machine.last_counter,
        )
        return
    if order_id is None or seq is None:
        log.warning(
            "machine %s: %d part(s) with no job bound; not attributed to an order",
            cmd.machine_id,
            parts,
        )
        return
    order = _order(uow, order_id)
    if order is None:
        return
    order.record_good(seq, parts, cmd.at, cmd.cycle_time_s)
    order.check_schedule(now)


def set_machine_state(cmd: commands.SetMachineState, uow: UnitOfWork, now: datetime) -> None:
    machine = uow.get_machine(cmd.machine_id)
    machine.state = cmd.state
    machine.last_seen = cmd.at


def check_orders(cmd: commands.CheckOrders, uow: UnitOfWork, now: datetime) -> None:
    for order_id in uow.open_order_ids():
        order = uow.get_order(order_id, for_update=True)
        if order is not None:
            order.check_schedule(now)


def _order(uow: UnitOfWork, order_id: str) -> Order | None:
    order = uow.get_order(order_id, for_update=True)
    if order is None:
        log.warning("event for unknown order %s ignored", order_id)
    return order


def record_late_alert(event: events.OrderFellBehind, uow: UnitOfWork, now: datetime) -> None:
    uow.add_alert(
        order_id=event.order_id,
        kind="late",
        status="open",
        raised_at=event.at,
        eta=event.eta,
        due_at=event.due_at,
        message=f"order {event.order_id} is projected to finish {event.eta:%Y-%m-%d %H:%M:%S}Z, "
        f"after its due date {event.due_at:%Y-%m-%d %H:%M:%S}Z",
    )
    log.warning("order %s fell behind: ETA %s, due %s", event.order_id, event.eta, event.due_at)


def log_event(event: events.Event, uow: UnitOfWork, now: datetime) -> None:
    log.info("%s", event)


Handler = Callable[[Any, UnitOfWork, datetime], None]

COMMAND_HANDLERS: dict[type, Handler] = {
    commands.CreateOrder: create_order,
    commands.ImportOrders: import_orders,
    commands.StartJob: start_job,
    commands.EndJob: end_job,
    commands.RecordCycle: record_cycle,
    commands.SetMachineState: set_machine_state,
    commands.CheckOrders: check_orders,
}

EVENT_HANDLERS: dict[type, list[Handler]] = {
    events.OrderFellBehind: [record_late_alert],
    events.OrderBackOnTrack: [log_event],
    events.OperationCompleted: [log_event],
    events.OrderCompleted: [log_event],
}
