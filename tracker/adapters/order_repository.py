"""The orders of a unit of work: loaded, locked, and remembered for the bus to handle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.domain.model import OPEN_STATUS_VALUES, Order

from . import orm
from .transaction_state import TransactionState


class SqlOrders:
    """Order queries of `SqlUnitOfWork` (mixed in: it provides `session` and `_tx`)."""

    session: Session
    _tx: TransactionState

    def add_order(self, order: Order) -> None:
        self.session.add(order)
        self._tx.seen.append(order)

    def get_order(self, order_id: str, *, for_update: bool = False) -> Order | None:
        order = self._tx.locked_orders.get(order_id)
        if order is None:
            stmt = select(Order).where(orm.orders.c.order_id == order_id)
            if for_update:
                stmt = stmt.with_for_update()
            order = self.session.scalars(stmt).first()
            if order is not None and for_update:
                self._tx.locked_orders[order_id] = order
        if order is not None and order not in self._tx.seen:
            self._tx.seen.append(order)
        return order

    def open_order_ids(self) -> list[str]:
        stmt = select(orm.orders.c.order_id).where(orm.orders.c.status.in_(OPEN_STATUS_VALUES))
        return list(self.session.scalars(stmt))

    def open_orders(self) -> list[Order]:
        """Every open order, locked; orders another transaction holds are skipped (it is
        assessing them already), so the periodic check never waits or deadlocks on events."""
        stmt = (
            select(Order)
            .where(orm.orders.c.status.in_(OPEN_STATUS_VALUES))
            .order_by(orm.orders.c.order_id)
            .with_for_update(skip_locked=True)
        )
        orders = list(self.session.scalars(stmt))
        known = set(map(id, self._tx.seen))
        self._tx.seen.extend(o for o in orders if id(o) not in known)
        return orders

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
            open_ids = select(oc.order_id).where(
                oc.order_id.in_(ids), oc.status.in_(OPEN_STATUS_VALUES)
            )
            ids = sorted(self.session.scalars(open_ids))
        return [o for oid in ids if (o := self.get_order(oid, for_update=True)) is not None]

    def freeze_planned(
        self, order_id: str, seq: int, machine: str, start: datetime, end: datetime
    ) -> None:
        """Store an operation's planned machine and times, once (its first start keeps them)."""
        op = orm.operations.c
        self.session.execute(
            update(orm.operations)
            .where(op.order_id == order_id, op.seq == seq, op.planned_start.is_(None))
            .values(planned_machine=machine, planned_start=start, planned_end=end)
        )
