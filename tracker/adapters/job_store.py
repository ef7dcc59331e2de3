"""Queries of job binding: a machine's unassigned cycles, its dispatch candidates, the log."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from tracker.domain.binding import Backlog
from tracker.domain.model import OPEN_STATUS_VALUES, OperationState

from . import orm


class JobStore:
    """The unit of work's job-binding queries (mixed into `SqlUnitOfWork`)."""

    session: Session

    def unassigned_backlog(
        self, machine_id: str, since: datetime, until: datetime
    ) -> list[Backlog]:
        """A machine's unassigned cycles between two times that no job took yet, locked."""
        u = orm.unassigned_events.c
        stmt = (
            select(u.id, u.event_at, u.good_qty, u.scrap_qty)
            .where(
                u.machine_id == machine_id,
                u.type == "cycle",
                u.assigned_at.is_(None),
                u.good_qty.is_not(None),
                u.event_at >= since,
                u.event_at <= until,
            )
            .order_by(u.event_at, u.id)
            .with_for_update()
        )
        with self.session.no_autoflush:
            rows = self.session.execute(stmt).all()
        return [Backlog(r.id, r.event_at, r.good_qty or 0, r.scrap_qty or 0) for r in rows]

    def mark_assigned(self, row_ids: Sequence[int], order_id: str, seq: int, at: datetime) -> None:
        """Unassigned cycles a job took: kept, with the job and when."""
        if not row_ids:
            return
        u = orm.unassigned_events
        self.session.connection().execute(
            update(u)
            .where(u.c.id.in_(row_ids))
            .values(assigned_order_id=order_id, assigned_seq=seq, assigned_at=at)
        )

    def add_job_binding(self, **values: Any) -> None:
        """One line of the binding log (start or end of a job on a machine)."""
        self.session.connection().execute(insert(orm.job_bindings).values(**values))

    def remaining_of(self, order_ids: Iterable[str]) -> dict[str, list[tuple[int, int]]]:
        """(operation, good parts left) of each open order's operations still to do, in
        routing order."""
        wanted = sorted(set(order_ids))
        found: dict[str, list[tuple[int, int]]] = {oid: [] for oid in wanted}
        if not wanted:
            return found
        o, op = orm.orders.c, orm.operations.c
        stmt = (
            select(op.order_id, op.seq, op.quantity, op.good_qty)
            .join(orm.orders, o.order_id == op.order_id)
            .where(
                op.order_id.in_(wanted),
                o.status.in_(OPEN_STATUS_VALUES),
                op.state != OperationState.COMPLETED.value,
            )
            .order_by(op.order_id, op.seq)
        )
        for row in self.session.execute(stmt):
            found[row.order_id].append((row.seq, row.quantity - row.good_qty))
        return found

    def machine_known(self, machine_id: str) -> bool:
        """Whether the machine is stored (it published something or was bound before)."""
        m = orm.machines.c
        with self.session.no_autoflush:
            found = self.session.execute(select(m.machine_id).where(m.machine_id == machine_id))
            return found.first() is not None
