"""The unit of work the handlers see: repositories, outbox and processed events in one transaction.

Handlers are typed against these Protocols, never against the SQL adapter
(`tracker.adapters.unit_of_work.SqlUnitOfWork`), so a fake in memory can stand in for it.
Methods are grouped by the table they reach; `UnitOfWork` is all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from types import TracebackType
from typing import Any, NamedTuple, Protocol, Self

from tracker.domain.alerts import Alert, AlertPolicy
from tracker.domain.binding import Backlog, MachineRules
from tracker.domain.incidents import AlarmNote, Incident
from tracker.domain.machine import Machine, StateInterval
from tracker.domain.model import Order
from tracker.domain.planning.model import Plan
from tracker.domain.schedule import OnTimeOdds

# (machine id, state, bound order, bound operation) of one machine
MachineRow = tuple[str, str, str | None, int | None]


class StopRow(NamedTuple):
    """What the handlers need of a downtime record."""

    id: int
    machine_id: str
    started_at: datetime
    alarm_code: str | None
    source: str | None  # who gave its reason: "alarm", "person", or None (nobody yet)


class OrderRepository(Protocol):
    """Orders, loaded (locked on request) and remembered in `seen` for their events."""

    def add_order(self, order: Order) -> None: ...
    def get_order(self, order_id: str, *, for_update: bool = False) -> Order | None: ...
    def orders_working_on(self, machine_ids: set[str]) -> list[Order]: ...
    def freeze_planned(
        self, order_id: str, seq: int, machine: str, start: datetime, end: datetime
    ) -> None: ...


class MachineRepository(Protocol):
    """Machines (locked), their state changes, state intervals, alarms and unassigned events."""

    def get_machine(self, machine_id: str, *, for_update: bool = True) -> Machine: ...
    def machines_heard_before(
        self, before: datetime, only: Iterable[str] | None = None, skip: Iterable[str] = ()
    ) -> list[Machine]: ...
    def machines_touched(self) -> list[str]: ...
    def machine_state_changes(self) -> dict[str, tuple[str | None, str | None]]: ...
    def machines(self) -> list[MachineRow]: ...
    def machine_known(self, machine_id: str) -> bool: ...
    def add_state_interval(self, interval: StateInterval) -> None: ...
    def add_alarm(self, **values: Any) -> None: ...
    def add_unassigned(self, **values: Any) -> None: ...


class JobBindings(Protocol):
    """A machine's unassigned cycles, the binding log and what open orders have left to do."""

    def unassigned_backlog(
        self, machine_id: str, since: datetime, until: datetime
    ) -> list[Backlog]: ...
    def mark_assigned(
        self, row_ids: Sequence[int], order_id: str, seq: int, at: datetime
    ) -> None: ...
    def add_job_binding(self, **values: Any) -> None: ...
    def remaining_of(self, order_ids: Iterable[str]) -> dict[str, list[tuple[int, int]]]: ...


class DowntimeRecords(Protocol):
    """Machines' downtime records: at most one open per machine, opened and closed by the
    machine handlers, classified by people."""

    def open_stop(self, machine_id: str) -> StopRow | None: ...
    def get_stop(self, stop_id: int) -> StopRow | None: ...
    def add_stop(self, **values: Any) -> None: ...
    def end_stop(self, stop_id: int, ended_at: datetime) -> None: ...
    def drop_stop(self, stop_id: int) -> None: ...
    def update_stop(self, stop_id: int, **values: Any) -> None: ...
    def recent_alarm(
        self, machine_id: str, since: datetime, until: datetime
    ) -> tuple[str, str] | None: ...


class OperatorActions(Protocol):
    """What people did at machines (the audit log), and the job a machine worked last."""

    def add_operator_action(self, **values: Any) -> None: ...
    def last_job(self, machine_id: str) -> tuple[str, int] | None: ...


class AlertRepository(Protocol):
    """Each order's open alert (locked) and the alerts raised in this transaction."""

    def lock_alerts(self, order_ids: Iterable[str]) -> None: ...
    def active_alert(self, order_id: str, kind: str) -> Alert | None: ...
    def get_alert(self, alert_id: int) -> Alert | None: ...
    def add_alert(self, alert: Alert) -> None: ...


class IncidentRepository(Protocol):
    """Each machine's open incident (locked), its alerts, and the machine's stop and alarms."""

    @property
    def incidents_seen(self) -> list[Incident]:
        """Incidents loaded or added in this transaction (their notices go to the outbox)."""
        ...

    def open_incident(self, machine_id: str) -> Incident | None: ...
    def get_incident(self, incident_id: int) -> Incident | None: ...
    def add_incident(self, incident: Incident) -> None: ...
    def incident_alerts(self, incident_id: int) -> list[Alert]: ...
    def machine_stop(self, machine_id: str) -> datetime | None:
        """Since when the machine is in its state; its row stays locked (one incident opens)."""
        ...

    def alarms_near(self, machine_id: str, since: datetime) -> list[AlarmNote]: ...


class AlertOutbox(Protocol):
    """Rows to deliver, one per alert version and channel, committed with the alert."""

    def add_delivery(self, **values: Any) -> None: ...


class ProcessedEvents(Protocol):
    """Machine event ids already applied: a redelivery changes nothing."""

    def first_times(
        self, keys: Sequence[tuple[str, str]], now: datetime
    ) -> set[tuple[str, str]]: ...
    def forget_event(self, machine_id: str, event_id: str) -> None: ...


class OrderCheckRows(Protocol):
    """The periodic check's bulk reads (rows by column name) and its one bulk update."""

    def open_order_rows(self) -> list[Any]: ...
    def machine_rows(self) -> list[Any]: ...
    def open_operations(self) -> dict[str, list[Any]]: ...
    def store_assessments(self, quiet: Sequence[dict[str, Any]]) -> None: ...


class UnitOfWork(
    OrderRepository,
    MachineRepository,
    JobBindings,
    DowntimeRecords,
    OperatorActions,
    AlertRepository,
    IncidentRepository,
    AlertOutbox,
    ProcessedEvents,
    OrderCheckRows,
    Protocol,
):
    """One transaction: what the handlers read, lock and write, committed once."""

    policy: AlertPolicy
    plan: Plan | None
    # each open order's forecast P(on time) and its reason (the last outlook): look-ups only
    odds: Mapping[str, OnTimeOdds]
    rules: MachineRules
    rebound: bool  # a job was bound or released other than by a job event

    @property
    def seen(self) -> list[Order]:
        """Orders loaded or added, in order: the bus assesses them and handles their events."""
        ...

    @property
    def alerts_seen(self) -> list[Alert]: ...
    @property
    def touched_orders(self) -> set[str]:
        """Orders written without loading them (bulk updates), for the change feed."""
        ...

    @property
    def deliveries_added(self) -> int: ...
    def lock_for_batch(self, machine_ids: Iterable[str], order_ids: Iterable[str]) -> None: ...
    def savepoint(self) -> AbstractContextManager[None]: ...
    def commit(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Starts a unit of work (not entered yet) for one attempt of the bus."""

    def __call__(
        self,
        policy: AlertPolicy,
        plan: Plan | None,
        rules: MachineRules,
        odds: Mapping[str, OnTimeOdds],
    ) -> UnitOfWork: ...


class PlanningReads(Protocol):
    """Plain rows planning and dispatch lists read (no locks)."""

    def machine_rows(self) -> list[Any]: ...
    def open_orders_to_plan(self) -> list[Any]: ...
    def open_operations(self) -> dict[str, list[Any]]: ...
    def open_due_dates(self) -> dict[str, datetime]: ...
    def machine_intervals(self, since: datetime) -> list[Any]: ...
    def machine_ids(self) -> set[str]: ...


class PlanningSessions(Protocol):
    """Opens `PlanningReads` on a read-only session."""

    def __call__(self) -> AbstractContextManager[PlanningReads]: ...
