"""Engine, sessions and the unit of work: one code path for SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tracker.domain.model import Machine, Order

from . import orm


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL and a busy timeout so threads can share it."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: object) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def create_schema(engine: Engine) -> None:
    """Bring the schema to the head revision by running the migrations (tests, the demo)."""
    from .migrations import upgrade_engine  # Alembic loads only where a schema is made

    upgrade_engine(engine)


class UnitOfWork:
    """One transaction; rows read for update are locked on PostgreSQL until commit."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        self.seen: list[Order] = []
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
        stmt = select(Order).where(orm.orders.c.order_id == order_id)
        if for_update:
            stmt = stmt.with_for_update()
        order = self.session.scalars(stmt).first()
        if order is not None and order not in self.seen:
            self.seen.append(order)
        return order

    def open_order_ids(self) -> list[str]:
        stmt = select(orm.orders.c.order_id).where(orm.orders.c.status != "completed")
        return list(self.session.scalars(stmt))

    # -- machines -------------------------------------------------------------------------
    def get_machine(self, machine_id: str, *, for_update: bool = True) -> Machine:
        stmt = select(Machine).where(orm.machines.c.machine_id == machine_id)
        if for_update:
            stmt = stmt.with_for_update()
        machine = self.session.scalars(stmt).first()
        if machine is None:
            machine = Machine(machine_id)
            self.session.add(machine)
        return machine

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

    # -- alerts (outbox) ------------------------------------------------------------------
    def add_alert(self, **values: Any) -> None:
        self.session.execute(insert(orm.alerts).values(**values))

    def undelivered_alerts(self) -> list[dict[str, Any]]:
        stmt = (
            select(orm.alerts).where(orm.alerts.c.delivered_at.is_(None)).order_by(orm.alerts.c.id)
        )
        return [dict(row._mapping) for row in self.session.execute(stmt)]

    def mark_delivered(self, alert_id: int, at: datetime) -> None:
        self.session.execute(
            orm.alerts.update().where(orm.alerts.c.id == alert_id).values(delivered_at=at)
        )

    def delete_all(self) -> None:
        """Used by tests and `--reset`: empty every table."""
        for table in reversed(orm.metadata.sorted_tables):
            self.session.execute(delete(table))


def session_factory(engine: Engine) -> sessionmaker[Session]:
    orm.start_mappers()
    return sessionmaker(bind=engine, expire_on_commit=False)
