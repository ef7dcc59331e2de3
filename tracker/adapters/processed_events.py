"""Event de-duplication: each machine event id is applied once, however often it is delivered."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, insert, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import orm

_FIRST_TIMES_PG = text(
    "INSERT INTO processed_events (machine_id, event_id, received_at)"
    " SELECT m, e, :now FROM unnest(CAST(:m AS varchar[]), CAST(:e AS varchar[])) AS k(m, e)"
    " ON CONFLICT DO NOTHING RETURNING machine_id, event_id"
)


class SqlProcessedEvents:
    """The processed-events table of `SqlUnitOfWork` (mixed in: it provides `session`)."""

    session: Session

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
