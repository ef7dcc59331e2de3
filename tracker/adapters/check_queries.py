"""The periodic order check's bulk queries: open orders as rows (locked), stored in one update."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from tracker.domain.model import OPEN_STATUS_VALUES

from . import orm
from .planning_reads import machine_rows, open_operations
from .transaction_state import TransactionState

_o = orm.orders.c
# orders a machine event holds are skipped (it assesses them itself), so the check neither
# waits, deadlocks nor writes over it; built once (no parameters), cache-keyed once
_OPEN_ORDER_ROWS = (
    select(_o.order_id, _o.due_at, _o.schedule_status, _o.schedule_reasons, _o.eta)
    .where(_o.status.in_(OPEN_STATUS_VALUES))
    .order_by(_o.order_id)
    .with_for_update(skip_locked=True)
)


class SqlOrderChecks:
    """Order-check queries of `SqlUnitOfWork` (mixed in: it provides `session` and `_tx`)."""

    session: Session
    _tx: TransactionState

    def open_order_rows(self) -> list[Any]:
        """(order_id, due_at, schedule_status, schedule_reasons, eta) of the open orders,
        locked in key order; orders another transaction holds are skipped."""
        return list(self.session.execute(_OPEN_ORDER_ROWS))

    def machine_rows(self) -> list[Any]:
        return machine_rows(self.session)

    def open_operations(self) -> dict[str, list[Any]]:
        return open_operations(self.session)

    def store_assessments(self, quiet: Sequence[dict[str, Any]]) -> None:
        """Store fresh ETAs ("e") and reasons ("r") of orders ("o") in one bulk update."""
        if not quiet:
            return
        o = orm.orders.c
        self.session.connection().execute(
            update(orm.orders)
            .where(o.order_id == bindparam("o"))
            .values(eta=bindparam("e"), schedule_reasons=bindparam("r")),
            quiet,
        )
        self._tx.touched_orders.update(row["o"] for row in quiet)  # live views hear of them
