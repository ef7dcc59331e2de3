"""Orders, machines, job bindings and incidents of the fake unit of work, on its copy of the
tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from tests.fake_store import Tables, Work
from tracker.domain.alerts import Alert
from tracker.domain.binding import Backlog
from tracker.domain.incidents import ALARM_WINDOW_S, AlarmNote, Incident
from tracker.domain.machine import OFFLINE, Machine, StateInterval
from tracker.domain.model import OperationState, Order
from tracker.service_layer.unit_of_work import MachineRow


class FakeOrders:
    """Order methods (mixed into `FakeUnitOfWork`, which provides `db` and `_w`)."""

    _w: Work

    @property
    def db(self) -> Tables:
        """The tables as this transaction sees them."""
        return self._w.db

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


class FakeMachines(FakeOrders):
    """Machine and job-binding methods (mixed into `FakeUnitOfWork`)."""

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


class FakeIncidents(FakeMachines):
    """Incident methods (mixed into `FakeUnitOfWork`)."""

    @property
    def incidents_seen(self) -> list[Incident]:
        return self._w.incidents_seen

    def _seen(self, incident: Incident | None) -> Incident | None:
        if incident is not None and incident not in self._w.incidents_seen:
            self._w.incidents_seen.append(incident)
        return incident

    def open_incident(self, machine_id: str) -> Incident | None:
        open_ = [i for i in self.db.incidents if i.machine_id == machine_id and i.is_open]
        return self._seen(open_[-1] if open_ else None)

    def get_incident(self, incident_id: int) -> Incident | None:
        return self._seen(next((i for i in self.db.incidents if i.id == incident_id), None))

    def add_incident(self, incident: Incident) -> None:
        incident.id = len(self.db.incidents) + 1
        self.db.incidents.append(incident)
        self._seen(incident)

    def incident_alerts(self, incident_id: int) -> list[Alert]:
        found = [a for a in self.db.alerts if a.incident_id == incident_id]
        self._w.alerts_seen.extend(a for a in found if a not in self._w.alerts_seen)
        return found

    def machine_stop(self, machine_id: str) -> datetime | None:
        machine = self.db.machines.get(machine_id)
        return machine.state_since if machine is not None else None

    def alarms_near(self, machine_id: str, since: datetime) -> list[AlarmNote]:
        after = since - timedelta(seconds=ALARM_WINDOW_S)
        rows = [a for a in self.db.alarms if a["machine_id"] == machine_id]
        return [
            AlarmNote(a["code"], a["message"], a["raised_at"])
            for a in rows
            if a["raised_at"] >= after
        ]
