"""One handler per command and per domain event; they touch the domain through the unit of work."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tracker.domain import commands, events
from tracker.domain.model import DomainError, Operation, Order

from . import (
    alert_handlers,
    downtime_handlers,
    job_binding,
    machine_handlers,
    operator_handlers,
    planning,
)
from .downtime_handlers import follows_stops
from .unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class OrderExists(DomainError):
    """An order with this id is already stored."""


class OrderNotFound(DomainError):
    """No order with this id."""


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
    if cmd.dry_run:
        return
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
    order.release(now)
    return order


def _existing(uow: UnitOfWork, order_id: str) -> Order:
    order = uow.get_order(order_id, for_update=True)
    if order is None:
        raise OrderNotFound(f"order {order_id} not found")
    return order


def cancel_order(cmd: commands.CancelOrder, uow: UnitOfWork, now: datetime) -> None:
    _existing(uow, cmd.order_id).cancel(cmd.reason, now)


def ship_order(cmd: commands.ShipOrder, uow: UnitOfWork, now: datetime) -> None:
    _existing(uow, cmd.order_id).ship(now)


def change_quantity(cmd: commands.ChangeQuantity, uow: UnitOfWork, now: datetime) -> None:
    """The bus then re-assesses the order (its ETA moves with the quantity)."""
    order = _existing(uow, cmd.order_id)
    order.change_quantity(cmd.quantity, now)


def log_event(event: events.Event, uow: UnitOfWork, now: datetime) -> None:
    log.info("%s", event)


Handler = Callable[[Any, UnitOfWork, datetime], None]

COMMAND_HANDLERS: dict[type, Handler] = {
    commands.CreateOrder: create_order,
    commands.ImportOrders: import_orders,
    commands.StartJob: machine_handlers.start_job,
    commands.EndJob: machine_handlers.end_job,
    commands.RecordCycle: machine_handlers.record_cycle,
    commands.SetMachineState: machine_handlers.set_machine_state,
    commands.RecordAlarm: machine_handlers.record_alarm,
    commands.MarkSilentMachinesOffline: machine_handlers.mark_silent_machines_offline,
    # a job bound to (or released from) an IDLE machine begins (or ends) a stop
    commands.BindJob: follows_stops(job_binding.bind_job, people=True),
    commands.ReleaseJob: follows_stops(job_binding.release_job, people=True),
    commands.ReportScrap: operator_handlers.report_scrap,
    commands.CheckOrders: alert_handlers.check_orders,
    commands.AcknowledgeAlert: alert_handlers.acknowledge_alert,
    commands.ClassifyStop: downtime_handlers.classify_stop,
    commands.AcknowledgeIncident: alert_handlers.acknowledge_incident,
    commands.CancelOrder: cancel_order,
    commands.ShipOrder: ship_order,
    commands.ChangeQuantity: change_quantity,
}

EVENT_HANDLERS: dict[type, list[Handler]] = {
    events.OrderFellBehind: [alert_handlers.reconcile_alert],
    events.OrderBackOnTrack: [alert_handlers.reconcile_alert],
    events.OrderScheduleUpdated: [alert_handlers.reconcile_alert],
    events.OperationStarted: [planning.freeze_planned],
    events.OperationCompleted: [log_event],
    events.OrderCompleted: [log_event, alert_handlers.clear_on_completion],
    events.OrderShipped: [log_event],
    events.OrderCancelled: [log_event, alert_handlers.clear_on_cancellation],
}
