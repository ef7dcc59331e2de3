"""The SQL unit of work: one transaction over the repositories, outbox and processed events."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from tracker.domain.alerts import Alert, AlertPolicy
from tracker.domain.binding import MachineRules
from tracker.domain.machine import Machine
from tracker.domain.model import Order
from tracker.domain.planning.model import Plan
from tracker.domain.schedule import OnTimeOdds

from . import orm
from .alert_outbox import SqlOutbox
from .alert_repository import SqlAlerts
from .check_queries import SqlOrderChecks
from .downtime_store import DowntimeStore
from .incident_repository import SqlIncidents
from .job_store import JobStore
from .machine_repository import SqlMachines
from .operator_action_store import OperatorActionStore
from .order_repository import SqlOrders
from .processed_events import SqlProcessedEvents
from .transaction_state import TransactionState


@functools.cache
def _lock_machines() -> Select[Machine]:
    """Machines ("ids") locked in key order; built once, after the mapping."""
    m = orm.machines.c
    ids = m.machine_id.in_(bindparam("ids", expanding=True))
    return select(Machine).where(ids).order_by(m.machine_id).with_for_update()


@functools.cache
def _lock_orders() -> Select[Order]:
    """Orders ("ids") locked in key order; built once, after the mapping."""
    o = orm.orders.c
    ids = o.order_id.in_(bindparam("ids", expanding=True))
    return select(Order).where(ids).order_by(o.order_id).with_for_update()


class SqlUnitOfWork(
    SqlOrders,
    SqlMachines,
    SqlAlerts,
    SqlIncidents,
    SqlOutbox,
    SqlProcessedEvents,
    SqlOrderChecks,
    JobStore,
    DowntimeStore,
    OperatorActionStore,
):
    """One transaction; rows read for update are locked on PostgreSQL until commit."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        policy: AlertPolicy | None = None,
        plan: Plan | None = None,
        rules: MachineRules | None = None,
        odds: Mapping[str, OnTimeOdds] | None = None,
    ) -> None:
        self._factory = factory
        self.policy = policy or AlertPolicy()
        # the current plan: ETAs of open orders (queues, shifts), the baseline of started ops
        self.plan = plan
        # how each machine's jobs bind and when it is OFFLINE
        self.rules = rules or MachineRules()
        # each open order's forecast P(on time), for the p_on_time at-risk rule
        self.odds: Mapping[str, OnTimeOdds] = odds or {}

    def __enter__(self) -> SqlUnitOfWork:
        self.session = self._factory()
        self._tx = TransactionState()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back anything uncommitted; unlike rollback() it leaves loaded objects
        # readable (detached) for the caller
        self.session.close()

    def commit(self) -> None:
        self.write_stops()
        self.session.commit()

    # what the transaction saw and changed, for the bus (events, the change feed, the outbox)
    @property
    def seen(self) -> list[Order]:
        return self._tx.seen

    @property
    def alerts_seen(self) -> list[Alert]:
        return self._tx.alerts_seen

    @property
    def touched_orders(self) -> set[str]:
        return self._tx.touched_orders

    @property
    def deliveries_added(self) -> int:
        return self._tx.deliveries_added

    @property
    def rebound(self) -> bool:
        return self._tx.rebound

    @rebound.setter
    def rebound(self, value: bool) -> None:
        self._tx.rebound = value

    def lock_for_batch(self, machine_ids: Iterable[str], order_ids: Iterable[str]) -> None:
        """Load and lock a batch's machines, then its orders and those the machines work on."""
        # one query each instead of one per event; in key order, as the silent-machine check
        # locks machines, so that two transactions do not wait on each other
        tx = self._tx
        wanted = sorted(set(machine_ids) - tx.locked_machines.keys())
        if wanted:
            for machine in self.session.scalars(_lock_machines(), {"ids": wanted}):
                tx.locked_machines[machine.machine_id] = machine
            tx.unknown_machines.update(set(wanted) - tx.locked_machines.keys())
        bound = {m.order_id for m in tx.locked_machines.values() if m.order_id is not None}
        wanted = sorted((set(order_ids) | bound) - tx.locked_orders.keys())
        if wanted:
            for order in self.session.scalars(_lock_orders(), {"ids": wanted}):
                tx.locked_orders[order.order_id] = order

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        """Run a block in a SAVEPOINT; if it raises, what it did is forgotten, the rest stays."""
        snapshot = self._tx.snapshot()
        try:
            with self.session.begin_nested():
                yield
        except BaseException:
            # the session expires the rows the block changed (they reload as they were); what it
            # does not track is put back here. Locks taken inside were released (PostgreSQL).
            self._tx.restore(snapshot)
            raise


@dataclass(frozen=True)
class SqlUnits:
    """Starts a `SqlUnitOfWork` on these sessions for each attempt of the bus."""

    sessions: sessionmaker[Session]

    def __call__(
        self,
        policy: AlertPolicy,
        plan: Plan | None,
        rules: MachineRules,
        odds: Mapping[str, OnTimeOdds],
    ) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions, policy, plan, rules, odds)
