"""Handlers for machine events: jobs, part counts, states, alarms, silence; nothing is dropped.

An event that names no job goes to the machine's bound job; one that cannot be attributed to an
order's operation is kept in `unassigned_events` with the reason.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from shopfloor.failures import OnceLog
from tracker.domain import commands
from tracker.domain.binding import Binding
from tracker.domain.downtime import stop_of
from tracker.domain.machine import Machine, StateChange
from tracker.domain.model import Order, OrderStatus
from tracker.domain.schedule import STOPPED_STATES

from .downtime_handlers import alarm_raised, follow_stop, follows_stops
from .job_binding import bind_from_dispatch, drop_job, take_job
from .unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
_silent_check = OnceLog(log)


def _keep(change: StateChange | None, machine: Machine, uow: UnitOfWork) -> None:
    if change is None:
        return
    if change.rejected:
        log.warning("machine %s: state event rejected: %s", machine.machine_id, change.rejected)
    if change.closed is not None:
        uow.add_state_interval(change.closed)


def _heard(
    uow: UnitOfWork, machine_id: str, at: datetime, now: datetime, back_as: str = "IDLE"
) -> Machine:
    machine = uow.get_machine(machine_id)
    _keep(machine.heard(at, now, back_as), machine, uow)
    return machine


def _unassigned(
    uow: UnitOfWork,
    cmd: commands.StartJob | commands.EndJob | commands.RecordCycle,
    kind: str,
    summary: str,
    reason: str,
    now: datetime,
    parts: tuple[int, int] | None = None,
) -> None:
    log.warning(
        "machine %s: %s event %s unassigned: %s", cmd.machine_id, kind, cmd.event_id, reason
    )
    uow.add_unassigned(
        machine_id=cmd.machine_id,
        event_id=cmd.event_id,
        type=kind,
        summary=summary,
        reason=reason,
        event_at=cmd.at,
        received_at=now,
        good_qty=parts[0] if parts else None,
        scrap_qty=parts[1] if parts else None,
    )


def _target(uow: UnitOfWork, order_id: str, seq: int) -> Order | str:
    """The order whose operation `seq` an event names, or why there is none."""
    order = uow.get_order(order_id, for_update=True)
    if order is None:
        return f"unknown order {order_id}"
    if order.status in (OrderStatus.SHIPPED, OrderStatus.CANCELLED):
        return f"order {order_id} is {order.status.value}"
    if all(op.seq != seq for op in order.operations):
        return f"order {order_id} has no operation {seq}"
    return order


_BY_PEOPLE = "the machine's jobs are bound by operators (bind: operator)"


@follows_stops
def start_job(cmd: commands.StartJob, uow: UnitOfWork, now: datetime) -> None:
    machine = _heard(uow, cmd.machine_id, cmd.at, now)
    summary = f"job_start {cmd.order_id} operation {cmd.seq}"
    if uow.rules.binding_of(cmd.machine_id) is Binding.OPERATOR:
        _unassigned(uow, cmd, "job_start", summary, _BY_PEOPLE, now)
        return
    target = _target(uow, cmd.order_id, cmd.seq)
    if isinstance(target, str):
        _unassigned(uow, cmd, "job_start", summary, target, now)
        return
    take_job(uow, machine, target, cmd.seq, cmd.at, "event", f"event {cmd.event_id}", now)


@follows_stops
def end_job(cmd: commands.EndJob, uow: UnitOfWork, now: datetime) -> None:
    machine = _heard(uow, cmd.machine_id, cmd.at, now)
    if uow.rules.binding_of(cmd.machine_id) is Binding.OPERATOR:
        summary = f"job_end {cmd.order_id} operation {cmd.seq}"
        _unassigned(uow, cmd, "job_end", summary, _BY_PEOPLE, now)
    elif (machine.order_id, machine.seq) == (cmd.order_id, cmd.seq):
        drop_job(uow, machine, "event", f"event {cmd.event_id}", cmd.at, now)


@follows_stops
def record_cycle(cmd: commands.RecordCycle, uow: UnitOfWork, now: datetime) -> None:
    back_as = "IDLE" if cmd.baseline else "RUNNING"  # a baseline says nothing of running
    machine = _heard(uow, cmd.machine_id, cmd.at, now, back_as=back_as)
    count = machine.count_cycle(
        cmd.counter, cmd.at, cmd.scrap_counter, cmd.counter_wrap, cmd.baseline
    )
    if count.good == 0 and count.scrap == 0:
        log.info(
            "machine %s: cycle %s (counter %d) counted nothing: %s",
            cmd.machine_id,
            cmd.event_id,
            cmd.counter,
            count.note,
        )
        return
    if count.note:
        log.info("machine %s: counter %s detected at %d", cmd.machine_id, count.note, cmd.counter)
    order_id, seq = cmd.order_id, cmd.seq
    dispatch = order_id is None and uow.rules.binding_of(cmd.machine_id) is Binding.DISPATCH
    # scrap alone after the last good part still belongs to the job that made it
    if dispatch and (count.good > 0 or machine.order_id is None):
        bind_from_dispatch(uow, machine, cmd.at, cmd.event_id, now)
    if order_id is None or seq is None:
        # no explicit job (or an order without its operation): the machine's bound job
        if machine.order_id is None or machine.seq is None:
            reason = "no job bound to the machine"
        elif order_id not in (None, machine.order_id):
            reason = f"order {order_id} named without an operation, and the machine works another"
        else:
            reason = ""
            order_id, seq = machine.order_id, machine.seq
        if reason:
            summary = f"counter {cmd.counter}: {count.good} good, {count.scrap} scrap"
            # only cycles that named no order may be counted to a job bound later
            parts = (count.good, count.scrap) if cmd.order_id is None else None
            _unassigned(uow, cmd, "cycle", summary, reason, now, parts)
            return
    assert order_id is not None and seq is not None
    target = _target(uow, order_id, seq)
    if isinstance(target, str):
        summary = f"counter {cmd.counter}: {count.good} good, {count.scrap} scrap"
        _unassigned(uow, cmd, "cycle", summary, target, now)
        return
    target.record_good(seq, count.good, cmd.at, cmd.cycle_time_s)
    target.record_scrap(seq, count.scrap, cmd.at)


@follows_stops
def set_machine_state(cmd: commands.SetMachineState, uow: UnitOfWork, now: datetime) -> None:
    machine = _heard(uow, cmd.machine_id, cmd.at, now)
    _keep(machine.set_state(cmd.state, cmd.at), machine, uow)


@follows_stops
def record_alarm(cmd: commands.RecordAlarm, uow: UnitOfWork, now: datetime) -> None:
    machine = _heard(uow, cmd.machine_id, cmd.at, now)
    log.warning("alarm %s on %s: %s", cmd.code, cmd.machine_id, cmd.message)
    uow.add_alarm(
        machine_id=cmd.machine_id,
        event_id=cmd.event_id,
        code=cmd.code,
        message=cmd.message,
        raised_at=cmd.at,
        received_at=now,
        order_id=machine.order_id,
        seq=machine.seq,
    )
    alarm_raised(uow, machine, cmd.code, cmd.message)
    if machine.state in STOPPED_STATES:  # the alarm of a stop may come after its incident
        incident = uow.open_incident(cmd.machine_id)
        if incident is not None and incident.alarm_heard(
            cmd.code, cmd.message, now, uow.policy.rules.tz
        ):
            log.warning("incident %s: %s", incident.id, incident.message)


def mark_silent_machines_offline(
    cmd: commands.MarkSilentMachinesOffline, uow: UnitOfWork, now: datetime
) -> None:
    """The periodic check: the domain decides which machines went silent long enough."""
    since = cmd.now - timedelta(seconds=cmd.after_s)
    # a machine whose bridge announces OFFLINE itself (offline: bridge) is never judged by silence
    only, skip = uow.rules.silence_scope()
    for machine in uow.machines_heard_before(since, only, skip):
        name = machine.machine_id
        try:  # one machine's bad row must not stop the check of the others
            with uow.savepoint():
                before = stop_of(machine.state, machine.order_id)
                change = machine.mark_offline_if_silent(cmd.now, cmd.after_s)
                if change is not None:
                    log.warning("machine %s silent since %s: OFFLINE", name, machine.last_seen)
                    _keep(change, machine, uow)
                    # a stop ends when the machine goes OFFLINE: what follows is unknown
                    follow_stop(uow, machine, before, machine.state_since or cmd.now)
        except Exception as exc:
            _silent_check.failed(name, exc, "silent-machine check of %s failed", name)
