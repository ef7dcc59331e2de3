"""The orders of a unit of work: loaded, locked, and remembered for the bus to handle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from tracker.domain.model import OPEN_STATUS_VALUES, Order

from . import orm
from .transaction_state import TransactionState

_o, _op, _m = orm.orders.c, orm.operations.c, orm.machines.c
# the orders working on some machines ("ids"), by route and by binding, and which are open;
# built once (the ids are a parameter)
_BY_ROUTE = select(_op.order_id).where(
    _op.machine.in_(bindparam("ids", expanding=True)), _op.state.in_(["active", "running"])
)
_BOUND = select(_m.order_id).where(
    _m.machine_id.in_(bindparam("ids", expanding=True)), _m.order_id.is_not(None)
)
_OPEN_OF = select(_o.order_id).where(
    _o.order_id.in_(bindparam("ids", expanding=True)), _o.status.in_(OPEN_STATUS_VALUES)
)


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
        ms = {"ids": sorted(machine_ids)}
        by_route, by_binding = self.session.scalars(_BY_ROUTE, ms), self.session.scalars(_BOUND, ms)
        ids = sorted(set(by_route) | set(by_binding))
        if ids:  # shipped and cancelled orders are not assessed any more
            ids = sorted(self.session.scalars(_OPEN_OF, {"ids": ids}))
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
