"""The alert outbox: one row per alert version and channel, written in the bus's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from . import orm
from .transaction_state import TransactionState


class SqlOutbox:
    """Outbox rows of `SqlUnitOfWork` (mixed in: it provides `session` and `_tx`)."""

    session: Session
    _tx: TransactionState

    def add_delivery(self, **values: Any) -> None:
        self.session.execute(insert(orm.alert_deliveries).values(**values))
        self._tx.deliveries_added += 1

    def pending_deliveries(self, channel: str, now: datetime, limit: int = 100) -> list[Any]:
        """Undelivered rows of a channel that are due, oldest first, locked (others skip them)."""
        d = orm.alert_deliveries.c
        stmt = (
            select(orm.alert_deliveries)
            .where(d.channel == channel, d.delivered_at.is_(None), d.next_attempt_at <= now)
            .order_by(d.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(self.session.execute(stmt))

    def delivery_done(self, delivery_id: int, at: datetime) -> None:
        d = orm.alert_deliveries
        self.session.execute(
            d.update()
            .where(d.c.id == delivery_id)
            .values(delivered_at=at, attempts=d.c.attempts + 1, last_error=None)
        )

    def delivery_leased(self, delivery_id: int, until: datetime) -> None:
        """Hide a row from other workers until `until` while it is being sent."""
        d = orm.alert_deliveries
        self.session.execute(d.update().where(d.c.id == delivery_id).values(next_attempt_at=until))

    def delivery_failed(self, delivery_id: int, error: str, retry_at: datetime) -> None:
        d = orm.alert_deliveries
        self.session.execute(
            d.update()
            .where(d.c.id == delivery_id)
            .values(next_attempt_at=retry_at, attempts=d.c.attempts + 1, last_error=error[:2000])
        )


def release_leases(sessions: sessionmaker[Session], now: datetime) -> int:
    """Make every undelivered row due now: a new leader sends at once what the old one had
    leased (or was backing off from) instead of waiting out the lease; returns how many."""
    d = orm.alert_deliveries
    with sessions.begin() as session:
        result = session.execute(
            d.update()
            .where(d.c.delivered_at.is_(None), d.c.next_attempt_at > now)
            .values(next_attempt_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)
