"""Downtime queries of the unit of work: a machine's open stop, its end, its reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from tracker.service_layer.unit_of_work import StopRow

from . import orm
from .transaction_state import TransactionState

_COLUMNS = ("machine_id", "started_at", "alarm_code", "source")


class DowntimeStore:
    """The unit of work's downtime queries (mixed into `SqlUnitOfWork`).

    A record opened in this transaction stays in memory (a negative id) until `write_stops`
    at commit: most stops that begin and end in one batch are gone by then. Rows go through
    the session's connection: no autoflush of a batch's pending changes (they refer to nothing
    the session holds).
    """

    session: Session
    _tx: TransactionState

    def _stop(self, *where: Any) -> StopRow | None:
        d = orm.downtime.c
        stmt = (
            select(d.id, *(d[name] for name in _COLUMNS))
            .where(*where)
            .order_by(d.started_at.desc(), d.id.desc())
            .limit(1)
            .with_for_update()
        )
        row = self.session.connection().execute(stmt).first()
        return None if row is None else StopRow(*row)

    def open_stop(self, machine_id: str) -> StopRow | None:
        """The machine's record still open (its newest, should there be more)."""
        for key, values in self._tx.pending_stops.items():
            if values.get("machine_id") == machine_id and values.get("ended_at") is None:
                return StopRow(
                    key,
                    values["machine_id"],
                    values["started_at"],
                    values.get("alarm_code"),
                    values.get("source"),
                )
        d = orm.downtime.c
        return self._stop(d.machine_id == machine_id, d.ended_at.is_(None))

    def get_stop(self, stop_id: int) -> StopRow | None:
        """One record, locked: None when there is no such record."""
        return self._stop(orm.downtime.c.id == stop_id)

    def add_stop(self, **values: Any) -> None:
        """Open a record (written at commit)."""
        self._tx.pending_stops[-1 - len(self._tx.pending_stops)] = values

    def end_stop(self, stop_id: int, ended_at: datetime) -> None:
        """Close a record at `ended_at`."""
        self.update_stop(stop_id, ended_at=ended_at)

    def drop_stop(self, stop_id: int) -> None:
        """Forget a stop that ended before it lasted long enough to be a record."""
        if stop_id < 0:
            self._tx.pending_stops[stop_id] = {}  # keeps the other keys' numbering
            return
        d = orm.downtime
        self.session.connection().execute(delete(d).where(d.c.id == stop_id))

    def update_stop(self, stop_id: int, **values: Any) -> None:
        """Set columns of one record (its end, its alarm, its reason and who gave it)."""
        if stop_id < 0:
            self._tx.pending_stops[stop_id].update(values)
            return
        d = orm.downtime
        self.session.connection().execute(update(d).where(d.c.id == stop_id).values(**values))

    def write_stops(self) -> None:
        """Write the records opened in this transaction (before its commit)."""
        rows = [values for values in self._tx.pending_stops.values() if values]
        self._tx.pending_stops.clear()
        if rows:
            # one shape for executemany: every column a row does not give is NULL
            blank = {c.name: None for c in orm.downtime.c if c.name != "id"}
            full = [{**blank, **row} for row in rows]
            self.session.connection().execute(insert(orm.downtime), full)

    def recent_alarm(
        self, machine_id: str, since: datetime, until: datetime
    ) -> tuple[str, str] | None:
        """(code, message) of the machine's newest alarm raised in [since, until]."""
        a = orm.alarms.c
        stmt = (
            select(a.code, a.message)
            .where(a.machine_id == machine_id, a.raised_at >= since, a.raised_at <= until)
            .order_by(a.raised_at.desc(), a.id.desc())
            .limit(1)
        )
        row = self.session.connection().execute(stmt).first()
        return None if row is None else (row[0], row[1])
