"""An in-memory unit of work for handler and bus unit tests: no SQLAlchemy, milliseconds.

`FakeStore` is the "database" (what was committed); each `FakeUnitOfWork` works on a copy of
it and writes the copy back on commit, so a batch the bus runs again starts from what was
committed, and a failed savepoint puts its copy back. Locks and queries are not modelled.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from types import SimpleNamespace, TracebackType
from typing import Any

from tests.clock import T0
from tests.fake_downtime import FakeDowntime, FakeOperatorActions
from tests.fake_repositories import FakeIncidents
from tests.fake_store import FakeStore, Tables, Work, columns
from tracker.domain import commands
from tracker.domain.alerts import Alert, AlertPolicy
from tracker.domain.binding import MachineRules
from tracker.domain.model import OperationState, Order
from tracker.domain.planning.model import Plan
from tracker.domain.schedule import OnTimeOdds
from tracker.service_layer import handlers


class FakeUnitOfWork(FakeIncidents, FakeDowntime, FakeOperatorActions):
    """Implements `tracker.service_layer.unit_of_work.UnitOfWork` on a `FakeStore`."""

    def __init__(
        self,
        store: FakeStore,
        policy: AlertPolicy | None = None,
        plan: Plan | None = None,
        rules: MachineRules | None = None,
        odds: Mapping[str, OnTimeOdds] | None = None,
    ) -> None:
        self.store = store
        self.policy = policy or AlertPolicy()
        self.plan = plan
        self.rules = rules or MachineRules()
        self.odds: Mapping[str, OnTimeOdds] = odds or {}
        self._w = Work(Tables())

    def __enter__(self) -> FakeUnitOfWork:
        self._w = Work(copy.deepcopy(self.store.tables))
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
        # a row names an alert or an incident, the other column stays empty
        self.db.deliveries.append({"alert_id": None, "incident_id": None, **values})
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
                ops[order_id] = [SimpleNamespace(order_id=order_id, **columns(op)) for op in left]
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
        return [SimpleNamespace(**columns(o)) for _, o in orders if o.is_open]

    def open_operations(self) -> dict[str, list[Any]]:
        return self._uow.open_operations()

    def open_due_dates(self) -> dict[str, datetime]:
        return {o.order_id: o.due_at for o in self._uow.db.orders.values() if o.is_open}

    def machine_ids(self) -> set[str]:
        return set(self._uow.db.machines)

    def machine_intervals(self, since: datetime) -> list[Any]:
        return []  # the fake keeps no state history


class FakeUnits:
    """What the bus is given to start units of work: fakes on one store."""

    def __init__(self, store: FakeStore | None = None) -> None:
        self.store = store or FakeStore()

    def __call__(
        self,
        policy: AlertPolicy,
        plan: Plan | None,
        rules: MachineRules,
        odds: Mapping[str, OnTimeOdds],
    ) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store, policy, plan, rules, odds)


def with_orders(*orders: commands.CreateOrder, **uow: Any) -> FakeUnitOfWork:
    """An entered unit of work on a new store, with these orders created (at T0)."""
    with FakeUnitOfWork(FakeStore(), **uow) as work:
        for cmd in orders:
            handlers.create_order(cmd, work, T0)
        return work
