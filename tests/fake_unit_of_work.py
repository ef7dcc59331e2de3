"""An in-memory unit of work for handler and bus unit tests: no SQLAlchemy, milliseconds.

`FakeStore` is the "database" (what was committed); each `FakeUnitOfWork` works on a copy of
it and writes the copy back on commit, so a batch the bus runs again starts from what was
committed, and a failed savepoint puts its copy back. Locks and queries are not modelled.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from types import SimpleNamespace, TracebackType
from typing import Any

from tests.clock import T0
from tracker.domain import commands
from tracker.domain.alerts import Alert, AlertPolicy
from tracker.domain.binding import Backlog, MachineRules
from tracker.domain.machine import OFFLINE, Machine, StateInterval
from tracker.domain.model import OperationState, Order
from tracker.domain.planning.model import Plan
from tracker.service_layer import handlers
from tracker.service_layer.unit_of_work import MachineRow


@dataclass
class Tables:
    """Everything a unit of work can write."""

    orders: dict[str, Order] = field(default_factory=dict)
    machines: dict[str, Machine] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    processed: set[tuple[str, str]] = field(default_factory=set)
    unassigned: list[dict[str, Any]] = field(default_factory=list)
    job_bindings: list[dict[str, Any]] = field(default_factory=list)
    intervals: list[StateInterval] = field(default_factory=list)
    alarms: list[dict[str, Any]] = field(default_factory=list)
    planned: dict[tuple[str, int], tuple[str, datetime, datetime]] = field(default_factory=dict)


@dataclass
class FakeStore:
    """The committed state, and how many commits reached it."""

    tables: Tables = field(default_factory=Tables)
    commits: int = 0


@dataclass
class _Work:
    """What one transaction holds: its copy of the tables and what it saw."""

    db: Tables
    seen: list[Order] = field(default_factory=list)
    alerts_seen: list[Alert] = field(default_factory=list)
    touched_orders: set[str] = field(default_factory=set)
    deliveries_added: int = 0
    loaded_states: dict[str, str | None] = field(default_factory=dict)
    rebound: bool = False


class FakeUnitOfWork:
    """Implements `tracker.service_layer.unit_of_work.UnitOfWork` on a `FakeStore`."""

    def __init__(
        self,
        store: FakeStore,
        policy: AlertPolicy | None = None,
        plan: Plan | None = None,
        rules: MachineRules | None = None,
    ) -> None:
        self.store = store
        self.policy = policy or AlertPolicy()
        self.plan = plan
        self.rules = rules or MachineRules()
        self._w = _Work(Tables())

    def __enter__(self) -> FakeUnitOfWork:
        self._w = _Work(copy.deepcopy(self.store.tables))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pass  # what was not committed is dropped with the copy

    def commit(self) -> None:
        self.store.tables = copy.deepcopy(self._w.db)
        self.store.commits += 1

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        before = copy.deepcopy(self._w)
        try:
            yield
        except BaseException:
            self._w = before
            raise

    @property
    def db(self) -> Tables:
        """The tables as this transaction sees them."""
        return self._w.db

    @property
    def seen(self) -> list[Order]:
        return self._w.seen

    @property
    def alerts_seen(self) -> list[Alert]:
        return self._w.alerts_seen

    @property
    def touched_orders(self) -> set[str]:
        return self._w.touched_orders

    @property
    def deliveries_added(self) -> int:
        return self._w.deliveries_added

    @property
    def rebound(self) -> bool:
        return self._w.rebound

    @rebound.setter
    def rebound(self, value: bool) -> None:
        self._w.rebound = value

    def lock_for_batch(self, machine_ids: Iterable[str], order_ids: Iterable[str]) -> None:
        pass

    # -- orders
    def add_order(self, order: Order) -> None:
        self.db.orders[order.order_id] = order
        self._w.seen.append(order)

    def get_order(self, order_id: str, *, for_update: bool = False) -> Order | None:
        order = self.db.orders.get(order_id)
        if order is not None and order not in self._w.seen:
            self._w.seen.append(order)
        return order

    def orders_working_on(self, machine_ids: set[str]) -> list[Order]:
        bound = {m.order_id for m in self.db.machines.values() if m.machine_id in machine_ids}
        found = []
        for order in self.db.orders.values():
            op = order.current
            at = op is not None and op.machine in machine_ids and op.state.value != "pending"
            if order.is_open and (at or order.order_id in bound):
                found.append(self.get_order(order.order_id, for_update=True))
        return [o for o in found if o is not None]

    def freeze_planned(
        self, order_id: str, seq: int, machine: str, start: datetime, end: datetime
    ) -> None:
        self.db.planned.setdefault((order_id, seq), (machine, start, end))

    # -- machines
    def get_machine(self, machine_id: str, *, for_update: bool = True) -> Machine:
        machine = self.db.machines.get(machine_id)
        self._w.loaded_states.setdefault(machine_id, machine.state if machine else None)
        if machine is None:
            machine = self.db.machines[machine_id] = Machine(machine_id)
        return machine

    def machines_heard_before(
        self, before: datetime, only: Iterable[str] | None = None, skip: Iterable[str] = ()
    ) -> list[Machine]:
        wanted = None if only is None else set(only)
        found = []
        for machine_id in sorted(self.db.machines.keys() - set(skip)):
            machine = self.db.machines[machine_id]
            heard = machine.last_heard_at or machine.last_seen
            if wanted is not None and machine_id not in wanted:
                continue
            if machine.state != OFFLINE and heard is not None and heard <= before:
                self._w.loaded_states.setdefault(machine_id, machine.state)
                found.append(machine)
        return found

    def machines_touched(self) -> list[str]:
        return list(self._w.loaded_states)

    def machine_state_changes(self) -> dict[str, tuple[str | None, str | None]]:
        changes = {}
        for machine_id, before in self._w.loaded_states.items():
            machine = self.db.machines.get(machine_id)
            now = machine.state if machine is not None else None
            if now != before:
                changes[machine_id] = (before, now)
        return changes

    def machines(self) -> list[MachineRow]:
        return [(m.machine_id, m.state, m.order_id, m.seq) for m in self.db.machines.values()]

    def machine_known(self, machine_id: str) -> bool:
        return machine_id in self.db.machines

    def add_state_interval(self, interval: StateInterval) -> None:
        self.db.intervals.append(interval)

    def add_alarm(self, **values: Any) -> None:
        self.db.alarms.append(values)

    def add_unassigned(self, **values: Any) -> None:
        row_id = len(self.db.unassigned) + 1
        self.db.unassigned.append({"id": row_id, "assigned_at": None, **values})

    # -- job bindings
    def unassigned_backlog(
        self, machine_id: str, since: datetime, until: datetime
    ) -> list[Backlog]:
        rows = [
            r
            for r in self.db.unassigned
            if r["machine_id"] == machine_id
            and r["type"] == "cycle"
            and r["assigned_at"] is None
            and r["good_qty"] is not None
            and since <= r["event_at"] <= until
        ]
        rows.sort(key=lambda r: (r["event_at"], r["id"]))
        return [Backlog(r["id"], r["event_at"], r["good_qty"], r["scrap_qty"] or 0) for r in rows]

    def mark_assigned(self, row_ids: Sequence[int], order_id: str, seq: int, at: datetime) -> None:
        for row in self.db.unassigned:
            if row["id"] in row_ids:
                row.update(assigned_order_id=order_id, assigned_seq=seq, assigned_at=at)

    def add_job_binding(self, **values: Any) -> None:
        self.db.job_bindings.append(values)

    def remaining_of(self, order_ids: Iterable[str]) -> dict[str, list[tuple[int, int]]]:
        found: dict[str, list[tuple[int, int]]] = {}
        for order_id in sorted(set(order_ids)):
            order = self.db.orders.get(order_id)
            ops = order.operations if order is not None and order.is_open else []
            left = [op for op in ops if op.state is not OperationState.COMPLETED]
            found[order_id] = [(op.seq, op.quantity - op.good_qty) for op in left]
        return found

    # -- alerts and the outbox
    def lock_alerts(self, order_ids: Iterable[str]) -> None:
        pass

    def active_alert(self, order_id: str, kind: str) -> Alert | None:
        open_ = [
            a
            for a in self.db.alerts
            if a.order_id == order_id and a.kind == kind and a.state != "cleared"
        ]
        alert = open_[-1] if open_ else None
        if alert is not None and alert not in self._w.alerts_seen:
            self._w.alerts_seen.append(alert)
        return alert

    def get_alert(self, alert_id: int) -> Alert | None:
        alert = next((a for a in self.db.alerts if a.id == alert_id), None)
        if alert is not None and alert not in self._w.alerts_seen:
            self._w.alerts_seen.append(alert)
        return alert

    def add_alert(self, alert: Alert) -> None:
        alert.id = len(self.db.alerts) + 1
        self.db.alerts.append(alert)
        self._w.alerts_seen.append(alert)

    def add_delivery(self, **values: Any) -> None:
        self.db.deliveries.append(values)
        self._w.deliveries_added += 1

    # -- processed events
    def first_times(self, keys: Sequence[tuple[str, str]], now: datetime) -> set[tuple[str, str]]:
        fresh = set(keys) - self.db.processed
        self.db.processed |= fresh
        return fresh

    def forget_event(self, machine_id: str, event_id: str) -> None:
        self.db.processed.discard((machine_id, event_id))

    # -- the periodic order check's rows
    def open_order_rows(self) -> list[Any]:
        return [
            SimpleNamespace(
                order_id=o.order_id,
                due_at=o.due_at,
                schedule_status=o.schedule_status.value,
                schedule_reasons=list(o.schedule_reasons),
                eta=o.eta,
            )
            for _, o in sorted(self.db.orders.items())
            if o.is_open
        ]

    def machine_rows(self) -> list[Any]:
        return list(self.machines())

    def open_operations(self) -> dict[str, list[Any]]:
        ops: dict[str, list[Any]] = {}
        for order_id, order in sorted(self.db.orders.items()):
            left = [op for op in order.operations if op.state is not OperationState.COMPLETED]
            if order.is_open and left:
                ops[order_id] = [SimpleNamespace(order_id=order_id, **_columns(op)) for op in left]
        return ops

    def store_assessments(self, quiet: Sequence[dict[str, Any]]) -> None:
        for row in quiet:
            order = self.db.orders[row["o"]]
            order.eta, order.schedule_reasons = row["e"], list(row["r"])
            self._w.touched_orders.add(row["o"])


class FakePlanningReads:
    """Implements `PlanningReads` (and, called, `PlanningSessions`) on a `FakeStore`."""

    def __init__(self, store: FakeStore) -> None:
        self._uow = FakeUnitOfWork(store)

    @contextlib.contextmanager
    def __call__(self) -> Iterator[FakePlanningReads]:
        with self._uow:
            yield self

    def machine_rows(self) -> list[Any]:
        rows = self._uow.machines()
        return [SimpleNamespace(machine_id=m, state=s, order_id=o, seq=q) for m, s, o, q in rows]

    def open_orders_to_plan(self) -> list[Any]:
        orders = sorted(self._uow.db.orders.items())
        return [SimpleNamespace(**_columns(o)) for _, o in orders if o.is_open]

    def open_operations(self) -> dict[str, list[Any]]:
        return self._uow.open_operations()

    def open_due_dates(self) -> dict[str, datetime]:
        return {o.order_id: o.due_at for o in self._uow.db.orders.values() if o.is_open}

    def machine_ids(self) -> set[str]:
        return set(self._uow.db.machines)


def _columns(obj: Any) -> dict[str, Any]:
    """A dataclass's fields as a row would hold them."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


class FakeUnits:
    """What the bus is given to start units of work: fakes on one store."""

    def __init__(self, store: FakeStore | None = None) -> None:
        self.store = store or FakeStore()

    def __call__(
        self, policy: AlertPolicy, plan: Plan | None, rules: MachineRules
    ) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store, policy, plan, rules)


def order(
    order_id: str, quantity: int = 2, due_at: datetime = T0 + timedelta(days=2), cycle_s: float = 30
) -> commands.CreateOrder:
    """An order of one operation, 10 (cut) on saw-1."""
    return commands.CreateOrder(
        order_id=order_id,
        customer="ACME",
        product="bracket",
        quantity=quantity,
        due_at=due_at,
        token_hash="a" * 64,
        operations=(commands.OperationSpec(10, "cut", "saw-1", 60, cycle_s),),
    )


def with_orders(*orders: commands.CreateOrder, **uow: Any) -> FakeUnitOfWork:
    """An entered unit of work on a new store, with these orders created (at T0)."""
    with FakeUnitOfWork(FakeStore(), **uow) as work:
        for cmd in orders:
            handlers.create_order(cmd, work, T0)
        return work
