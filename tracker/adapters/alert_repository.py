"""The alerts of a unit of work: each order's open alert, locked, and the alerts it added."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from tracker.domain.alerts import Alert

from . import orm
from .transaction_state import TransactionState


@functools.cache
def _open_alerts_of() -> Select[Alert]:
    """The open alerts of some orders ("ids"), locked; built once, after the mapping."""
    a = orm.alerts.c
    return (
        select(Alert)
        .where(a.order_id.in_(bindparam("ids", expanding=True)), a.state != "cleared")
        .order_by(a.order_id, a.id)
        .with_for_update()
    )


class SqlAlerts:
    """Alert queries of `SqlUnitOfWork` (mixed in: it provides `session` and `_tx`)."""

    session: Session
    _tx: TransactionState

    def lock_alerts(self, order_ids: Iterable[str]) -> None:
        """Write what is pending, then load and lock these orders' open alerts in one query."""
        # one flush for everything the commands and the assessment changed, before the alert
        # handlers add rows that refer to it (the mapping does not tell the ORM so)
        self.session.flush()
        wanted = sorted(set(order_ids) - self._tx.alerts_of.keys())
        if not wanted:
            return
        self._tx.alerts_of.update((order_id, []) for order_id in wanted)
        for alert in self.session.scalars(_open_alerts_of(), {"ids": wanted}):
            self._tx.alerts_of[alert.order_id].append(alert)

    def active_alert(self, order_id: str, kind: str) -> Alert | None:
        """The open (not cleared) alert of this order and kind, locked."""
        known = self._tx.alerts_of.get(order_id)
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
        if alert is not None and alert not in self._tx.alerts_seen:
            self._tx.alerts_seen.append(alert)
        return alert

    def get_alert(self, alert_id: int) -> Alert | None:
        stmt = select(Alert).where(orm.alerts.c.id == alert_id).with_for_update()
        alert = self.session.scalars(stmt).first()
        if alert is not None and alert not in self._tx.alerts_seen:
            self._tx.alerts_seen.append(alert)
        return alert

    def add_alert(self, alert: Alert) -> None:
        self.session.add(alert)
        self.session.flush()  # the id names the alert in its deliveries
        self._tx.alerts_seen.append(alert)
        if alert.order_id in self._tx.alerts_of:
            self._tx.alerts_of[alert.order_id].append(alert)
