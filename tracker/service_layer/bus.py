"""The message bus: applies a batch of commands in one transaction, then the events they raised."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from tracker.domain import commands, events
from tracker.domain.alerts import AlertPolicy
from tracker.domain.binding import MachineRules
from tracker.domain.model import DomainError
from tracker.domain.planning.model import Plan
from tracker.domain.schedule import OnTimeOdds

from .alert_handlers import assess_touched_orders
from .handlers import COMMAND_HANDLERS, EVENT_HANDLERS
from .incident_handlers import enqueue_incident_notices
from .unit_of_work import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

_NAMES_ORDER = (commands.StartJob, commands.EndJob, commands.RecordCycle)
_MACHINE_COMMANDS = (*_NAMES_ORDER, commands.SetMachineState, commands.RecordAlarm)

# commands and events after which the plan is out of date, besides a machine going down or
# coming back (a cycle that only counts a part is not: the ETA takes the observed pace from
# the order's own projection until the next plan)
_MOVES_PLAN = (
    commands.CreateOrder,
    commands.ImportOrders,
    commands.CancelOrder,
    commands.ChangeQuantity,
    commands.StartJob,
    commands.EndJob,
    commands.BindJob,
    commands.ReleaseJob,
)
_MOVES_PLAN_EVENTS = (events.OperationCompleted, events.OrderFellBehind, events.OrderCancelled)

# what became of one command of a batch: APPLIED, REDELIVERED (a machine event applied before:
# it changed nothing), or the DomainError that rejected it (rolled back alone)
APPLIED: Final = True
REDELIVERED: Final = False
CommandResult = bool | DomainError

# a batch runs without savepoints (one costs a flush and two statements per command); when a
# command is refused it runs again from the start without that command, this many times at
# most, before each command gets a savepoint
_ATTEMPTS_WITHOUT_SAVEPOINTS = 3


@dataclass(frozen=True)
class Changes:
    """What one commit touched: orders, alerts and machines (ids), for live views."""

    orders: frozenset[str] = frozenset()
    alerts: frozenset[int] = frozenset()
    machines: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.orders or self.alerts or self.machines)


class _Rejected(Exception):
    """Command `index` of a batch run without savepoints raised a DomainError."""

    def __init__(self, index: int, error: DomainError) -> None:
        super().__init__(str(error))
        self.index, self.error = index, error


class MessageBus:
    """Commands in; domain events handled inside the same transaction (alerts go to an outbox)."""

    def __init__(
        self,
        units: UnitOfWorkFactory,
        clock: Callable[[], datetime],
        on_alert: Callable[[], None] = lambda: None,
        policy: AlertPolicy | None = None,
        plans: Callable[[], Plan | None] = lambda: None,
        on_plan_change: Callable[[], None] = lambda: None,
        on_commit: Callable[[Changes], None] = lambda _changes: None,
        rules: MachineRules | None = None,
        odds: Callable[[], Mapping[str, OnTimeOdds]] = dict,
    ) -> None:
        # starts the unit of work of each attempt (`SqlUnits` in production, a fake in tests)
        self.units = units
        self._clock = clock
        self._on_alert = on_alert
        self.policy = policy or AlertPolicy()
        # the current plan (the planner's) and how to ask for a new one when reality moved
        self._plans = plans
        self._on_plan_change = on_plan_change
        # what each commit changed, for live views (the board's event stream)
        self._on_commit = on_commit
        # each machine's job binding and offline rule
        self.rules = rules or MachineRules()
        # each open order's P(on time) in the last forecast (the p_on_time at-risk rule's input)
        self._odds = odds

    def handle(self, cmd: commands.Command) -> bool:
        """Apply `cmd`; False when it was a redelivered machine event and changed nothing."""
        result = self.handle_batch([cmd])[0]
        if isinstance(result, DomainError):
            raise result
        return result

    def handle_batch(self, cmds: Sequence[commands.Command]) -> list[CommandResult]:
        """Apply `cmds` in order in one transaction; a DomainError rolls back only its command."""
        # a machine event id applied before (or earlier in the batch) changes nothing; the
        # orders the batch touched are assessed once, then their events handled, then one
        # commit; any other error propagates, and nothing of the batch is committed
        if not cmds:
            return []
        now = self._clock()
        refused: dict[int, DomainError] = {}
        try:
            for _attempt in range(_ATTEMPTS_WITHOUT_SAVEPOINTS):
                try:
                    results, delivered, moved, changes = self._apply(cmds, now, refused)
                    break
                except _Rejected as rejected:
                    # rolled back whole: the same commands without this one give what a
                    # savepoint around it would have (handlers depend on the state and `now`)
                    refused[rejected.index] = rejected.error
                    if len(refused) == len(cmds):
                        return [refused[i] for i in range(len(cmds))]
            else:
                results, delivered, moved, changes = self._apply(cmds, now, None)
        except DomainError as exc:
            if len(cmds) == 1:
                return [exc]
            return self._one_by_one(cmds)
        if delivered:
            self._on_alert()
        if moved:
            self._on_plan_change()
        if changes:
            self._on_commit(changes)
        return results

    def _one_by_one(self, cmds: Sequence[commands.Command]) -> list[CommandResult]:
        """Each command in its own transaction, as if sent alone."""
        # assessing the batch or handling its events raised a DomainError: which command led
        # to it cannot be told
        log.warning("a batch of %d failed after its commands; applying them one by one", len(cmds))
        return [self.handle_batch([cmd])[0] for cmd in cmds]

    def _apply(
        self,
        cmds: Sequence[commands.Command],
        now: datetime,
        refused: dict[int, DomainError] | None,
    ) -> tuple[list[CommandResult], int, bool, Changes]:
        """One attempt: without the `refused` commands, or (None) each in its own savepoint.

        Returns the results, the alert deliveries added, whether the plan is out of date and
        what the commit changed.
        """
        left_out = refused or {}
        with self.units(self.policy, self._plans(), self.rules, self._odds()) as uow:
            fresh = _claim_and_lock(uow, [c for i, c in enumerate(cmds) if i not in left_out], now)
            results = [
                left_out[i] if i in left_out else self._once(i, cmd, uow, now, fresh, refused)
                for i, cmd in enumerate(cmds)
            ]
            moved = _commands_move_plan(cmds, results) or uow.rebound
            # every order the batch touched gets its schedule status assessed, once
            if assess_touched_orders(uow, now):
                moved = True
            events_move_plan = _handle_events(uow, now)
            enqueue_incident_notices(uow, now)  # once per transaction: one version each
            # the check after a replan must not ask for another one
            checking = all(isinstance(c, commands.CheckOrders) for c in cmds)
            moved = moved or (events_move_plan and not checking)
            uow.commit()
            return results, uow.deliveries_added, moved, _changes(uow)

    def _once(
        self,
        index: int,
        cmd: commands.Command,
        uow: UnitOfWork,
        now: datetime,
        fresh: set[tuple[str, str]],
        refused: dict[int, DomainError] | None,
    ) -> CommandResult:
        """Run a command, unless it is a machine event applied before (or earlier in the batch)."""
        if isinstance(cmd, _MACHINE_COMMANDS):
            key = (cmd.machine_id, cmd.event_id)
            if key not in fresh:
                log.info("event %s from %s already applied; ignored", cmd.event_id, cmd.machine_id)
                return REDELIVERED
            fresh.discard(key)  # the same event again later in the batch is a redelivery
        return self._run(index, cmd, uow, now, savepoint=refused is None)

    @staticmethod
    def _run(
        index: int, cmd: commands.Command, uow: UnitOfWork, now: datetime, savepoint: bool
    ) -> CommandResult:
        handler = COMMAND_HANDLERS[type(cmd)]
        if not savepoint:
            try:
                handler(cmd, uow, now)
            except DomainError as exc:
                raise _Rejected(index, exc) from exc
            return APPLIED
        try:
            with uow.savepoint():
                handler(cmd, uow, now)
        except DomainError as exc:
            if isinstance(cmd, _MACHINE_COMMANDS):
                uow.forget_event(cmd.machine_id, cmd.event_id)  # rejected: never applied
            return exc
        return APPLIED


def _claim_and_lock(
    uow: UnitOfWork, cmds: Sequence[commands.Command], now: datetime
) -> set[tuple[str, str]]:
    """Record the machine events' ids (those new are returned) and lock what they touch."""
    machine_cmds = [cmd for cmd in cmds if isinstance(cmd, _MACHINE_COMMANDS)]
    if not machine_cmds:
        return set()
    fresh = uow.first_times([(c.machine_id, c.event_id) for c in machine_cmds], now)
    named = [c.order_id for c in machine_cmds if isinstance(c, _NAMES_ORDER)]
    uow.lock_for_batch((c.machine_id for c in machine_cmds), (o for o in named if o is not None))
    return fresh


def _commands_move_plan(cmds: Sequence[commands.Command], results: list[CommandResult]) -> bool:
    """Whether an applied command moved the plan (the caller adds jobs bound by a person or a
    dispatch list: `uow.rebound`)."""
    return any(
        r is APPLIED and isinstance(c, _MOVES_PLAN) for c, r in zip(cmds, results, strict=True)
    )


def _handle_events(uow: UnitOfWork, now: datetime) -> bool:
    """Handle the events the orders recorded, in order; whether one of them moves the plan."""
    # their handlers look up the order's open alert: one query for all of them
    uow.lock_alerts(order.order_id for order in uow.seen if order.events)
    moved = False
    for order in uow.seen:
        while order.events:
            event = order.events.pop(0)
            moved = moved or isinstance(event, _MOVES_PLAN_EVENTS)
            for handler in EVENT_HANDLERS.get(type(event), []):
                handler(event, uow, now)
    return moved


def _changes(uow: UnitOfWork) -> Changes:
    """What the commit touched, for live views."""
    return Changes(
        frozenset(order.order_id for order in uow.seen) | uow.touched_orders,
        frozenset(alert.id for alert in uow.alerts_seen if alert.id is not None),
        frozenset(uow.machines_touched()),
    )
