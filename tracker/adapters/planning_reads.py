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

# the bulk reads take no parameters: built once, they are compiled and cache-keyed once too
_o, _op, _m = orm.orders.c, orm.operations.c, orm.machines.c
_OPEN_OPERATIONS = (
    select(
        _op.order_id,
        _op.seq,
        _op.name,
        _op.machine,
        _op.setup_s,
        _op.cycle_s,
        _op.quantity,
        _op.good_qty,
        _op.state,
        _op.started_at,
        _op.observed_cycle_s,
    )
    .join(orm.orders, _o.order_id == _op.order_id)
    .where(_o.status.in_(OPEN_STATUS_VALUES), _op.state != OperationState.COMPLETED.value)
    .order_by(_op.order_id, _op.seq)
)
MACHINE_ROWS = select(_m.machine_id, _m.state, _m.order_id, _m.seq)
_ORDERS_TO_PLAN = (
    select(_o.order_id, _o.due_at, _o.priority, _o.released_at, _o.created_at)
    .where(_o.status.in_(OPEN_STATUS_VALUES))
    .order_by(_o.order_id)
)
_DUE_DATES = select(_o.order_id, _o.due_at).where(_o.status.in_(OPEN_STATUS_VALUES))
_MACHINE_IDS = select(_m.machine_id)


def open_operations(session: Session) -> dict[str, list[Any]]:
    """The operations still to do of every open order, in routing order, by order id."""
    ops: dict[str, list[Any]] = defaultdict(list)
    for row in session.execute(_OPEN_OPERATIONS):
        ops[row.order_id].append(row)
    return ops


def machine_rows(session: Session) -> list[Any]:
    """(machine_id, state, order_id, seq) of every stored machine."""
    return list(session.execute(MACHINE_ROWS))


class SqlPlanningReads:
    """What planning and dispatch lists read, on one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def machine_rows(self) -> list[Any]:
        return machine_rows(self.session)

    def open_orders_to_plan(self) -> list[Any]:
        """(order_id, due_at, priority, released_at, created_at) of the open orders."""
        return list(self.session.execute(_ORDERS_TO_PLAN))

    def open_operations(self) -> dict[str, list[Any]]:
        return open_operations(self.session)

    def open_due_dates(self) -> dict[str, datetime]:
        """The due date of every open order."""
        return {r.order_id: r.due_at for r in self.session.execute(_DUE_DATES)}

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
        return set(self.session.scalars(_MACHINE_IDS))


@dataclass(frozen=True)
class SqlPlanningSessions:
    """Opens `SqlPlanningReads` on these sessions (read-only ones: no write lock on SQLite)."""

    sessions: sessionmaker[Session]

    @contextmanager
    def __call__(self) -> Iterator[SqlPlanningReads]:
        with self.sessions() as session:
            yield SqlPlanningReads(session)
