"""An order's contacts for customer notifications, as staff read them (secrets never)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.adapters import orm


def order_contacts(session: Session, order_id: str) -> list[Any] | None:
    """The order's contacts (channel, address, signed, added_by), oldest first; None when
    there is no such order."""
    o, c = orm.orders.c, orm.order_contacts.c
    if session.scalar(select(o.order_id).where(o.order_id == order_id)) is None:
        return None
    stmt = (
        select(c.channel, c.address, c.secret.is_not(None).label("signed"), c.added_by)
        .where(c.order_id == order_id)
        .order_by(c.id)
    )
    return list(session.execute(stmt))
