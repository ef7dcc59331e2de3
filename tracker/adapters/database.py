"""Engine, sessions and the unit of work: one code path for SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tracker.domain.alerts import Alert, AlertPolicy
from tracker.domain.binding import MachineRules
from tracker.domain.machine import OFFLINE, Machine, StateInterval
from tracker.domain.model import OPEN_STATUSES, Order
from tracker.domain.planning.model import Plan

from . import orm
from .job_store import JobStore

_OPEN = sorted(status.value for status in OPEN_STATUSES)
_FIRST_TIMES_PG = text(
    "INSERT INTO processed_events (machine_id, event_id, received_at)"
    " SELECT m, e, :now FROM unnest(CAST(:m AS varchar[]), CAST(:e AS varchar[])) AS k(m, e)"
    " ON CONFLICT DO NOTHING RETURNING machine_id, event_id"
)


# execution option of the engine behind read-only sessions
READ_ONLY = "shopfloor_read_only"


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL and a busy timeout so threads can share it.

    SQLite transactions begin IMMEDIATE: they take the write lock before their first read, so
    two threads cannot both read an order as on track and both raise its alert (what row
    locks do on PostgreSQL).
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: object) -> None:
            dbapi_conn.isolation_level = None  # the driver's own BEGIN would be DEFERRED
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # reads (a customer's poll, the board) need no write lock: a plain BEGIN lets
            # them run beside the writer in WAL mode instead of queueing behind it
            read_only = conn.get_execution_options().get(READ_ONLY, False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def create_schema(engine: Engine) -> None:
    """Bring the schema to the head revision by running the migrations (tests, the demo)."""
    from .migrations import upgrade_engine  # Alembic loads only where a schema is made

    upgrade_engine(engine)


class UnitOfWork(JobStore):
    """One transaction; rows read for update are locked on PostgreSQL until commit."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        policy: AlertPolicy | None = None,
        plan: Plan | None = None,
        rules: MachineRules | None = None,
    ) -> None:
        self._factory = factory
        self.policy = policy or AlertPolicy()
        # the current plan: ETAs of open orders (queues, shifts), the baseline of started ops
        self.plan = plan
        # how each machine's jobs bind and when it is OFFLINE
        self.rules = rules or MachineRules()

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        self.seen: list[Order] = []
        self.alerts_seen: list[Alert] = []
        # orders written without loading them (bulk updates), for the change feed
        self.touched_orders: set[str] = set()
        self.deliveries_added = 0
        # machines a command touched: the bus re-assesses the orders working on them
        self._loaded_states: dict[str, str | None] = {}
        self._machines: list[tuple[str, str, str | None, int | None]] | None = None
        # rows locked (FOR UPDATE) so far: later commands of a batch find them without a query
        self._locked_orders: dict[str, Order] = {}
        self._locked_machines: dict[str, Machine] = {}
        self._unknown_machines: set[str] = set()  # looked for by `lock_for_batch`, not stored
        self.rebound = False  # a job was bound or released other than by a job event
        # the open alerts of orders, locked, for `active_alert` (see `lock_alerts`)
        self._alerts_of: dict[str, list[Alert]] = {}
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
        self.session.commit()

    # -- orders ---------------------------------------------------------------------------
    def add_order(self, order: Order) -> None:
        self.session.add(order)
        self.seen.append(order)

    def get_order(self, order_id: str, *, for_update: bool = False) -> Order | None:
        order = self._locked_orders.get(order_id)
        if order is None:
            stmt = select(Order).where(orm.orders.c.order_id == order_id)
            if for_update:
                stmt = stmt.with_for_update()
            order = self.session.scalars(stmt).first()
            if order is not None and for_update:
                self._locked_orders[order_id] = order
        if order is not None and order not in self.seen:
            self.seen.append(order)
        return order

    def open_order_ids(self) -> list[str]:
        stmt = select(orm.orders.c.order_id).where(orm.orders.c.status.in_(_OPEN))
        return list(self.session.scalars(stmt))

    # -- machines -------------------------------------------------------------------------
    def get_machine(self, machine_id: str, *, for_update: bool = True) -> Machine:
        cached = self._locked_machines.get(machine_id)
        if cached is not None:
            # no command changed it before asking for it: its state now is its state before
            self._loaded_states.setdefault(machine_id, cached.state)
            return cached
        machine = None
        if machine_id not in self._unknown_machines:
            stmt = select(Machine).where(orm.machines.c.machine_id == machine_id)
            if for_update:
                stmt = stmt.with_for_update()
            machine = self.session.scalars(stmt).first()
        self._loaded_states.setdefault(machine_id, machine.state if machine else None)
        if machine is None:
            machine = Machine(machine_id)
            self.session.add(machine)
        if for_update:
            self._locked_machines[machine_id] = machine
        return machine

    def machines_heard_before(
        self, before: datetime, only: Iterable[str] | None = None, skip: Iterable[str] = ()
    ) -> list[Machine]:
        """Machines not OFFLINE whose last event came before `before` (locked for update);
        `only` these (None: any) and none of `skip`."""
        m = orm.machines.c
        heard = func.coalesce(m.last_heard_at, m.last_seen)
        stmt = (
            select(Machine)
            .where(m.state != OFFLINE, heard.is_not(None), heard <= before)
            .order_by(m.machine_id)
            .with_for_update()
        )
        if only is not None:
            stmt = stmt.where(m.machine_id.in_(sorted(only)))
        skipped = sorted(skip)
        if skipped:
            stmt = stmt.where(m.machine_id.not_in(skipped))
        machines = list(self.session.scalars(stmt))
        for machine in machines:
            self._loaded_states.setdefault(machine.machine_id, machine.state)
        return machines

    def machines_touched(self) -> list[str]:
        """Machines this unit of work loaded (for update) or created."""
        return list(self._loaded_states)

    def machine_state_changes(self) -> dict[str, tuple[str | None, str | None]]:
        """(state before, state now) of the machines whose state this unit of work changed."""
        changes = {}
        for machine_id, before in self._loaded_states.items():
            machine = self.session.get(Machine, machine_id)
            now = machine.state if machine is not None else None
            if now != before:
                changes[machine_id] = (before, now)
        return changes

    def add_state_interval(self, interval: StateInterval) -> None:
        # on the session's connection: no autoflush of every change pending in a batch (these
        # rows refer to nothing the session holds)
        self.session.connection().execute(
            insert(orm.machine_states).values(
                machine_id=interval.machine_id,
                state=interval.state,
                started_at=interval.started_at,
                ended_at=interval.ended_at,
            )
        )

    def add_alarm(self, **values: Any) -> None:
        self.session.connection().execute(insert(orm.alarms).values(**values))

    def add_unassigned(self, **values: Any) -> None:
        """Keep a machine event that could not be attributed to an order's operation."""
        self.session.connection().execute(insert(orm.unassigned_events).values(**values))

    # -- idempotency ----------------------------------------------------------------------
    def first_time(self, machine_id: str, event_id: str, now: datetime) -> bool:
        """Record an event id; False if it was already applied (a redelivery)."""
        try:
            with self.session.begin_nested():
                self.session.execute(
                    insert(orm.processed_events).values(
                        machine_id=machine_id, event_id=event_id, received_at=now
                    )
                )
        except IntegrityError:
            return False
        return True

    def first_times(self, keys: Sequence[tuple[str, str]], now: datetime) -> set[tuple[str, str]]:
        """Record a batch's (machine id, event id) pairs at once; those not applied before."""
        unique = list(dict.fromkeys(keys))
        dialect = self.session.get_bind().dialect
        if dialect.name == "postgresql":
            # two arrays in one statement: half the time of the same rows as parameter sets
            params = {"m": [k[0] for k in unique], "e": [k[1] for k in unique], "now": now}
            return {(r[0], r[1]) for r in self.session.execute(_FIRST_TIMES_PG, params)}
        if not dialect.insert_returning:  # SQLite before 3.35
            return {key for key in unique if self.first_time(*key, now)}
        c = orm.processed_events.c
        stmt = (
            sqlite.insert(orm.processed_events)
            .on_conflict_do_nothing()
            .returning(c.machine_id, c.event_id)
        )
        rows = [{"machine_id": m, "event_id": e, "received_at": now} for m, e in unique]
        # many parameter sets: SQLAlchemy sends them as a few multi-row INSERTs from a statement
        # compiled once ("insertmanyvalues")
        return {(r[0], r[1]) for r in self.session.execute(stmt, rows)}

    def forget_event(self, machine_id: str, event_id: str) -> None:
        """Undo `first_times` for one event whose command was rejected: it was never applied."""
        c = orm.processed_events.c
        self.session.execute(
            delete(orm.processed_events).where(c.machine_id == machine_id, c.event_id == event_id)
        )

    # -- batches --------------------------------------------------------------------------
    def lock_for_batch(self, machine_ids: Iterable[str], order_ids: Iterable[str]) -> None:
        """Load and lock a batch's machines, then its orders and those the machines work on."""
        # one query each instead of one per event; in key order, as the silent-machine check
        # locks machines, so that two transactions do not wait on each other
        wanted = sorted(set(machine_ids) - self._locked_machines.keys())
        if wanted:
            m = orm.machines.c
            stmt = (
                select(Machine)
                .where(m.machine_id.in_(wanted))
                .order_by(m.machine_id)
                .with_for_update()
            )
            for machine in self.session.scalars(stmt):
                self._locked_machines[machine.machine_id] = machine
            self._unknown_machines.update(set(wanted) - self._locked_machines.keys())
        bound = {m.order_id for m in self._locked_machines.values() if m.order_id is not None}
        wanted = sorted((set(order_ids) | bound) - self._locked_orders.keys())
        if wanted:
            o = orm.orders.c
            stmt_orders = (
                select(Order).where(o.order_id.in_(wanted)).order_by(o.order_id).with_for_update()
            )
            for order in self.session.scalars(stmt_orders):
                self._locked_orders[order.order_id] = order

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        """Run a block in a SAVEPOINT; if it raises, what it did is forgotten, the rest stays."""
        seen = [(order, len(order.events)) for order in self.seen]
        locked_orders, locked_machines = set(self._locked_orders), set(self._locked_machines)
        alerts, deliveries, machines = len(self.alerts_seen), self.deliveries_added, self._machines
        try:
            with self.session.begin_nested():
                yield
        except BaseException:
            # the session expires the rows the block changed (they reload as they were); what it
            # does not track is put back here. Locks taken inside were released (PostgreSQL).
            for order in self.seen[len(seen) :]:
                order.events.clear()
            for order, count in seen:
                del order.events[count:]
            del self.seen[len(seen) :]
            for order_id in self._locked_orders.keys() - locked_orders:
                del self._locked_orders[order_id]
            for machine_id in self._locked_machines.keys() - locked_machines:
                del self._locked_machines[machine_id]
            del self.alerts_seen[alerts:]
            self._alerts_of.clear()  # only saves queries: those asked again are read again
            self.deliveries_added, self._machines = deliveries, machines
            raise

    # -- schedule assessment --------------------------------------------------------------
    def open_orders(self) -> list[Order]:
        """Every open order, locked; orders another transaction holds are skipped (it is
        assessing them already), so the periodic check never waits or deadlocks on events."""
        stmt = (
            select(Order)
            .where(orm.orders.c.status.in_(_OPEN))
            .order_by(orm.orders.c.order_id)
            .with_for_update(skip_locked=True)
        )
        orders = list(self.session.scalars(stmt))
        known = set(map(id, self.seen))
        self.seen.extend(o for o in orders if id(o) not in known)
        return orders

    def machines(self) -> list[tuple[str, str, str | None, int | None]]:
        """(machine id, state, bound order, bound operation) of every machine, read once."""
        if self._machines is None:
            m = orm.machines.c
            # what this unit of work changed is taken from the session rather than flushed
            # first: a batch's changes are then written once, at commit
            with self.session.no_autoflush:
                rows = self.session.execute(select(m.machine_id, m.state, m.order_id, m.seq))
                found = {r[0]: (r[0], r[1], r[2], r[3]) for r in rows}
            for obj in [*self.session.identity_map.values(), *self.session.new]:
                if isinstance(obj, Machine):
                    found[obj.machine_id] = (obj.machine_id, obj.state, obj.order_id, obj.seq)
            self._machines = list(found.values())
        return self._machines

    def orders_working_on(self, machine_ids: set[str]) -> list[Order]:
        """Open orders whose current operation is on (or bound to) one of these machines."""
        if not machine_ids:
            return []
        op, m = orm.operations.c, orm.machines.c
        by_route = select(op.order_id).where(
            op.machine.in_(machine_ids), op.state.in_(["active", "running"])
        )
        by_binding = select(m.order_id).where(
            m.machine_id.in_(machine_ids), m.order_id.is_not(None)
        )
        ids = sorted(set(self.session.scalars(by_route)) | set(self.session.scalars(by_binding)))
        if ids:  # shipped and cancelled orders are not assessed any more
            oc = orm.orders.c
            open_ids = select(oc.order_id).where(oc.order_id.in_(ids), oc.status.in_(_OPEN))
            ids = sorted(self.session.scalars(open_ids))
        return [o for oid in ids if (o := self.get_order(oid, for_update=True)) is not None]

    # -- alerts and their outbox -----------------------------------------------------------
    def lock_alerts(self, order_ids: Iterable[str]) -> None:
        """Write what is pending, then load and lock these orders' open alerts in one query."""
        # one flush for everything the commands and the assessment changed, before the alert
        # handlers add rows that refer to it (the mapping does not tell the ORM so)
        self.session.flush()
        wanted = sorted(set(order_ids) - self._alerts_of.keys())
        if not wanted:
            return
        a = orm.alerts.c
        stmt = (
            select(Alert)
            .where(a.order_id.in_(wanted), a.state != "cleared")
            .order_by(a.order_id, a.id)
            .with_for_update()
        )
        self._alerts_of.update((order_id, []) for order_id in wanted)
        for alert in self.session.scalars(stmt):
            self._alerts_of[alert.order_id].append(alert)

    def active_alert(self, order_id: str, kind: str) -> Alert | None:
        """The open (not cleared) alert of this order and kind, locked."""
        known = self._alerts_of.get(order_id)
        if known is not None:
            # the newest of those loaded or added here that is still open in memory
            open_ = (x for x in reversed(known) if x.kind == kind and x.state != "cleared")
            alert = next(open_, None)
        else:
            a = orm.alerts.c
            stmt = (
                select(Alert)
                .where(a.order_id == order_id, a.kind == kind, a.state != "cleared")
                .order_by(a.id.desc())
                .with_for_update()
            )
            alert = self.session.scalars(stmt).first()
        if alert is not None and alert not in self.alerts_seen:
            self.alerts_seen.append(alert)
        return alert

    def get_alert(self, alert_id: int) -> Alert | None:
        stmt = select(Alert).where(orm.alerts.c.id == alert_id).with_for_update()
        alert = self.session.scalars(stmt).first()
        if alert is not None and alert not in self.alerts_seen:
            self.alerts_seen.append(alert)
        return alert

    def add_alert(self, alert: Alert) -> None:
        self.session.add(alert)
        self.session.flush()  # the id names the alert in its deliveries
        self.alerts_seen.append(alert)
        if alert.order_id in self._alerts_of:
            self._alerts_of[alert.order_id].append(alert)

    def add_delivery(self, **values: Any) -> None:
        self.session.execute(insert(orm.alert_deliveries).values(**values))
        self.deliveries_added += 1

    def pending_deliveries(self, channel: str, now: datetime, limit: int = 100) -> list[Any]:
        """Undelivered rows of a channel that are due, oldest first, locked (others skip them)."""
        d = orm.alert_deliveries.c
        stmt = (
            select(orm.alert_deliveries)
            .where(d.channel == channel, d.delivered_at.is_(None), d.next_attempt_at <= now)
            .order_by(d.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(self.session.execute(stmt))

    def delivery_done(self, delivery_id: int, at: datetime) -> None:
        d = orm.alert_deliveries
        self.session.execute(
            d.update()
            .where(d.c.id == delivery_id)
            .values(delivered_at=at, attempts=d.c.attempts + 1, last_error=None)
        )

    def delivery_leased(self, delivery_id: int, until: datetime) -> None:
        """Hide a row from other workers until `until` while it is being sent."""
        d = orm.alert_deliveries
        self.session.execute(d.update().where(d.c.id == delivery_id).values(next_attempt_at=until))

    def delivery_failed(self, delivery_id: int, error: str, retry_at: datetime) -> None:
        d = orm.alert_deliveries
        self.session.execute(
            d.update()
            .where(d.c.id == delivery_id)
            .values(next_attempt_at=retry_at, attempts=d.c.attempts + 1, last_error=error[:2000])
        )

    def delete_all(self) -> None:
        """Used by tests and `--reset`: empty every table."""
        for table in reversed(orm.metadata.sorted_tables):
            self.session.execute(delete(table))


def session_factory(engine: Engine) -> sessionmaker[Session]:
    orm.start_mappers()
    return sessionmaker(bind=engine, expire_on_commit=False)


def read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for reads only: on SQLite their transactions take no write lock."""
    return session_factory(engine.execution_options(**{READ_ONLY: True}))
