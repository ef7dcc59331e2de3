"""Bulk reads of open orders, their operations and the machines, as plain rows (no locks).

Planning, dispatch lists and the periodic order check read thousands of rows: mapped objects
would cost seconds, so these come back as rows the service layer reads by column name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tracker.domain.model import OPEN_STATUS_VALUES, OperationState

from . import orm


def open_operations(session: Session) -> dict[str, list[Any]]:
    """The operations still to do of every open order, in routing order, by order id."""
    o, op = orm.orders.c, orm.operations.c
    ops: dict[str, list[Any]] = defaultdict(list)
    for row in session.execute(
        select(
            op.order_id,
            op.seq,
            op.name,
            op.machine,
            op.setup_s,
            op.cycle_s,
            op.quantity,
            op.good_qty,
            op.state,
            op.started_at,
            op.observed_cycle_s,
        )
        .join(orm.orders, o.order_id == op.order_id)
        .where(o.status.in_(OPEN_STATUS_VALUES), op.state != OperationState.COMPLETED.value)
        .order_by(op.order_id, op.seq)
    ):
        ops[row.order_id].append(row)
    return ops


def machine_rows(session: Session) -> list[Any]:
    """(machine_id, state, order_id, seq) of every stored machine."""
    m = orm.machines.c
    return list(session.execute(select(m.machine_id, m.state, m.order_id, m.seq)))


class SqlPlanningReads:
    """What planning and dispatch lists read, on one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def machine_rows(self) -> list[Any]:
        return machine_rows(self.session)

    def open_orders_to_plan(self) -> list[Any]:
        """(order_id, due_at, priority, released_at, created_at) of the open orders."""
        o = orm.orders.c
        return list(
            self.session.execute(
                select(o.order_id, o.due_at, o.priority, o.released_at, o.created_at)
                .where(o.status.in_(OPEN_STATUS_VALUES))
                .order_by(o.order_id)
            )
        )

    def open_operations(self) -> dict[str, list[Any]]:
        return open_operations(self.session)

    def open_due_dates(self) -> dict[str, datetime]:
        """The due date of every open order."""
        o = orm.orders.c
        stmt = select(o.order_id, o.due_at).where(o.status.in_(OPEN_STATUS_VALUES))
        return {r.order_id: r.due_at for r in self.session.execute(stmt)}

    def machine_intervals(self, since: datetime) -> list[Any]:
        """(machine_id, state, started_at, ended_at) of the RUNNING and DOWN intervals that
        ended since `since`: what foresight learns each machine's failures from."""
        t = orm.machine_states.c
        stmt = select(t.machine_id, t.state, t.started_at, t.ended_at).where(
            t.ended_at >= since, t.state.in_(("RUNNING", "DOWN"))
        )
        return list(self.session.execute(stmt))

    def machine_ids(self) -> set[str]:
        """Every machine the tracker has heard from."""
        return set(self.session.scalars(select(orm.machines.c.machine_id)))


@dataclass(frozen=True)
class SqlPlanningSessions:
    """Opens `SqlPlanningReads` on these sessions (read-only ones: no write lock on SQLite)."""

    sessions: sessionmaker[Session]

    @contextmanager
    def __call__(self) -> Iterator[SqlPlanningReads]:
        with self.sessions() as session:
            yield SqlPlanningReads(session)
