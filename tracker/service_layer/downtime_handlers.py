"""Downtime records as machines stop and start again, the alarms that come with them, and the
reasons people give them (the rules are in `tracker.domain.downtime`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from tracker.domain import commands
from tracker.domain.downtime import ALARM_LEAD_S, DOWN, Reason, Source, is_record, stop_of
from tracker.domain.errors import DomainError
from tracker.domain.machine import Machine

from .operator_log import record_action
from .unit_of_work import UnitOfWork


class StopNotFound(DomainError):
    """No downtime record with this id."""


class UnknownReason(DomainError):
    """A reason code the plant file's catalogue does not have."""


class _MachineCommand(Protocol):
    @property
    def machine_id(self) -> str: ...


C = TypeVar("C", bound=_MachineCommand)


def follows_stops(
    handler: Callable[[C, UnitOfWork, datetime], None], *, people: bool = False
) -> Callable[[C, UnitOfWork, datetime], None]:
    """Wrap a handler of one machine's command: a stop it begins or ends opens or closes the
    machine's downtime record, at the command's time (`at`; a person's command: now)."""

    @functools.wraps(handler)
    def run(cmd: C, uow: UnitOfWork, now: datetime) -> None:
        name = cmd.machine_id
        if people and name not in uow.rules.machines and not uow.machine_known(name):
            handler(cmd, uow, now)  # refuses the unknown machine (loading it would create it)
            return
        machine = uow.get_machine(name)
        before = stop_of(machine.state, machine.order_id)
        handler(cmd, uow, now)
        at = getattr(cmd, "at", now)
        follow_stop(uow, machine, before, at if isinstance(at, datetime) else now)

    return run


def follow_stop(uow: UnitOfWork, machine: Machine, before: str | None, at: datetime) -> None:
    """The machine was in stop `before` (DOWN, IDLE or None): end it, begin the one it is in
    now, when they differ (a DOWN machine repaired and waiting IDLE is a new stop)."""
    after = stop_of(machine.state, machine.order_id)
    if after == before:
        return
    if before is not None:
        _end(uow, machine.machine_id, at)
    if after is not None:
        _begin(uow, machine, after, at)


def _end(uow: UnitOfWork, machine_id: str, at: datetime) -> None:
    stop = uow.open_stop(machine_id)
    if stop is None:
        return
    ended = max(at, stop.started_at)
    if is_record(stop.started_at, ended, ended, uow.rules.downtime.min_s):
        uow.end_stop(stop.id, ended)
    else:
        uow.drop_stop(stop.id)  # too short to be downtime


def _reason_columns(reason: Reason | None) -> dict[str, str | None]:
    if reason is None:
        return {}
    return {"reason": reason.code, "category": reason.category.value, "source": Source.ALARM.value}


def _begin(uow: UnitOfWork, machine: Machine, kind: str, at: datetime) -> None:
    code = text = None
    if kind == DOWN:  # an alarm just before a breakdown came with it
        alarm = uow.recent_alarm(machine.machine_id, at - timedelta(seconds=ALARM_LEAD_S), at)
        if alarm is not None:
            code, text = alarm
    reason = uow.rules.downtime.catalogue.reason_for_alarm(machine.machine_id, code)
    uow.add_stop(
        machine_id=machine.machine_id,
        state=kind,
        started_at=at,
        order_id=machine.order_id,
        seq=machine.seq,
        alarm_code=code,
        alarm_text=text,
        **_reason_columns(reason),
    )


def alarm_raised(uow: UnitOfWork, machine: Machine, code: str, text: str) -> None:
    """An alarm while the machine is stopped comes with its stop (the first one does), and
    gives the stop its reason unless a person gave one."""
    if stop_of(machine.state, machine.order_id) is None:
        return
    stop = uow.open_stop(machine.machine_id)
    if stop is None or stop.alarm_code is not None:
        return
    reason = uow.rules.downtime.catalogue.reason_for_alarm(machine.machine_id, code)
    columns = _reason_columns(reason) if stop.source != Source.PERSON else {}
    uow.update_stop(stop.id, alarm_code=code, alarm_text=text, **columns)


def classify_stop(cmd: commands.ClassifyStop, uow: UnitOfWork, now: datetime) -> None:
    """A person gives a record its reason (again: the last one counts), with who and when."""
    stop = uow.get_stop(cmd.stop_id)
    if stop is None:
        raise StopNotFound(f"downtime record {cmd.stop_id} not found")
    reasons = uow.rules.downtime.catalogue.reasons
    reason = reasons.get(cmd.reason)
    if reason is None:
        known = ", ".join(sorted(reasons)) or "none: the plant file declares no `reasons`"
        raise UnknownReason(f"unknown reason {cmd.reason!r} (reasons: {known})")
    # the machine is locked before the record (the order machine events take them in), and
    # touched: live views (the board's Pareto) hear of the classification at once
    uow.get_machine(stop.machine_id)
    uow.update_stop(
        stop.id,
        reason=reason.code,
        category=reason.category.value,
        source=Source.PERSON.value,
        classified_by=cmd.by,
        classified_at=now,
        comment=cmd.comment,
    )
    record_action(
        uow,
        now,
        stop.machine_id,
        "classify",
        cmd.by,
        cmd.role,
        reason=reason.code,
        stop_id=stop.id,
        comment=cmd.comment,
    )
