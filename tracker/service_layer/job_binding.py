"""Binding jobs to machines: by event, from the machine's dispatch list, or by a person.

Whichever binds a job, the machine's unassigned cycles from the window before the binding are
counted to it, once (they are marked assigned, and kept), and the binding is logged with who
bound it and when.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from tracker.domain import commands
from tracker.domain.binding import DispatchCandidate, claimable, first_ready
from tracker.domain.errors import DomainError
from tracker.domain.machine import Machine
from tracker.domain.model import OperationState, Order

from .operator_log import record_action
from .unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class MachineNotFound(DomainError):
    """No machine with this id: the plant file does not declare it and it never published."""


class UnknownJob(DomainError):
    """The order or its operation does not exist."""


class JobConflict(DomainError):
    """The job cannot be started or ended now (a closed order, a completed operation...)."""


def take_job(
    uow: UnitOfWork,
    machine: Machine,
    order: Order,
    seq: int,
    at: datetime,
    source: str,
    actor: str,
    now: datetime,
) -> None:
    """Bind the machine to operation `seq` of `order` at `at`; its unassigned cycles from the
    window before `at` are counted to it, and those stamped after `at` that were applied first
    (a machine's events out of order: several trackers share them). Nothing happens when it is
    bound to it already."""
    if (machine.order_id, machine.seq) == (order.order_id, seq):
        order.start_operation(seq, at)
        return
    if machine.order_id is not None and machine.seq is not None:
        drop_job(uow, machine, source, actor, at, now)
    window_s = uow.rules.unassigned_window_s
    since = at - timedelta(seconds=window_s)
    until = max(at, now)
    backlog = claimable(
        uow.unassigned_backlog(machine.machine_id, since, until), at, window_s, until
    )
    order.start_operation(seq, min(backlog[0].event_at, at) if backlog else at)
    good = scrap = 0
    for cycle in backlog:
        good += order.record_good(seq, cycle.good, cycle.event_at, observe=False)
        scrap += order.record_scrap(seq, cycle.scrap, cycle.event_at)
    uow.mark_assigned([c.row_id for c in backlog], order.order_id, seq, now)
    machine.bind(order.order_id, seq)
    _log(uow, machine.machine_id, "start", order.order_id, seq, source, actor, at, now, good, scrap)
    if backlog:
        log.info(
            "machine %s: %d unassigned cycles (%d good, %d scrap) counted to %s/%d",
            machine.machine_id,
            len(backlog),
            good,
            scrap,
            order.order_id,
            seq,
        )


def drop_job(
    uow: UnitOfWork, machine: Machine, source: str, actor: str, at: datetime, now: datetime
) -> None:
    """Release the machine's job (if it has one) and log it."""
    if machine.order_id is None or machine.seq is None:
        return
    order_id, seq = machine.order_id, machine.seq
    machine.release(order_id, seq)
    _log(uow, machine.machine_id, "end", order_id, seq, source, actor, at, now, 0, 0)


def _log(
    uow: UnitOfWork,
    machine_id: str,
    action: str,
    order_id: str,
    seq: int,
    source: str,
    actor: str,
    at: datetime,
    now: datetime,
    good: int,
    scrap: int,
) -> None:
    log.info("machine %s: job %s/%d %s by %s %s", machine_id, order_id, seq, action, source, actor)
    uow.add_job_binding(
        machine_id=machine_id,
        action=action,
        order_id=order_id,
        seq=seq,
        source=source,
        actor=actor[:200],
        at=at,
        recorded_at=now,
        claimed_good=good,
        claimed_scrap=scrap,
    )


def _workable(order: Order, seq: int) -> bool:
    op = next((o for o in order.operations if o.seq == seq), None)
    return order.is_open and op is not None and op.state is not OperationState.COMPLETED


def bind_from_dispatch(
    uow: UnitOfWork, machine: Machine, at: datetime, event_id: str, now: datetime
) -> None:
    """A dispatch-bound machine produces: keep its job while it has parts to make, else take
    the first ready job of its dispatch list (none: it stays unbound)."""
    if machine.order_id is not None and machine.seq is not None:
        order = uow.get_order(machine.order_id, for_update=True)
        if order is not None and _workable(order, machine.seq):
            return
        drop_job(uow, machine, "dispatch", f"event {event_id}", at, now)
        uow.rebound = True
    queue = _queue(uow, machine.machine_id)
    while (job := first_ready(queue)) is not None:
        order = uow.get_order(job.order_id, for_update=True)
        if order is not None and _workable(order, job.seq):
            take_job(uow, machine, order, job.seq, at, "dispatch", f"event {event_id}", now)
            uow.rebound = True
            return
        queue = queue[queue.index(job) + 1 :]  # the plan is older than this transaction


def _queue(uow: UnitOfWork, machine_id: str) -> list[DispatchCandidate]:
    """The machine's dispatch list from the current plan, as the binding rule sees it."""
    if uow.plan is None:
        return []
    planned = sorted(
        (p for p in uow.plan.operations.values() if p.machine == machine_id),
        key=lambda p: (p.start, p.order_id, p.seq),
    )
    remaining = uow.remaining_of(p.order_id for p in planned)
    queue = []
    for p in planned:
        todo = remaining.get(p.order_id, [])
        left = next((n for seq, n in todo if seq == p.seq), 0)
        queue.append(DispatchCandidate(p.order_id, p.seq, bool(todo) and todo[0][0] == p.seq, left))
    return queue


def known_machine(uow: UnitOfWork, machine_id: str) -> Machine:
    """The machine (locked); MachineNotFound when the plant file and the database lack it."""
    if machine_id not in uow.rules.machines and not uow.machine_known(machine_id):
        raise MachineNotFound(f"machine {machine_id} not found")
    return uow.get_machine(machine_id)


def bind_job(cmd: commands.BindJob, uow: UnitOfWork, now: datetime) -> None:
    """A person starts a job on a machine; starting the job it has already changes nothing."""
    machine = known_machine(uow, cmd.machine_id)
    order = uow.get_order(cmd.order_id, for_update=True)
    if order is None:
        raise UnknownJob(f"unknown order {cmd.order_id}")
    op = next((o for o in order.operations if o.seq == cmd.seq), None)
    if op is None:
        raise UnknownJob(f"order {cmd.order_id} has no operation {cmd.seq}")
    if not order.is_open:
        raise JobConflict(f"order {cmd.order_id} is {order.status.value}")
    if op.state is OperationState.COMPLETED:
        raise JobConflict(f"operation {cmd.seq} of order {cmd.order_id} is already completed")
    take_job(uow, machine, order, cmd.seq, now, "operator", cmd.by, now)
    uow.rebound = True
    record_action(
        uow, now, cmd.machine_id, "start", cmd.by, cmd.role, order_id=cmd.order_id, seq=cmd.seq
    )


def release_job(cmd: commands.ReleaseJob, uow: UnitOfWork, now: datetime) -> None:
    """A person ends the machine's job; ending it again (no job bound) changes nothing."""
    machine = known_machine(uow, cmd.machine_id)
    if machine.order_id is None:
        return
    named = (cmd.order_id, cmd.seq if cmd.seq is not None else machine.seq)
    if cmd.order_id is not None and named != (machine.order_id, machine.seq):
        raise JobConflict(
            f"machine {cmd.machine_id} works {machine.order_id} operation {machine.seq}, "
            f"not {cmd.order_id}" + (f" operation {cmd.seq}" if cmd.seq is not None else "")
        )
    order_id, seq = machine.order_id, machine.seq
    drop_job(uow, machine, "operator", cmd.by, now, now)
    uow.rebound = True
    record_action(uow, now, cmd.machine_id, "end", cmd.by, cmd.role, order_id=order_id, seq=seq)
