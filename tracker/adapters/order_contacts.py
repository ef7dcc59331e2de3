"""Who hears of an order's promise moving: its contacts, set by staff or added by customers.

Like the order's token, contacts are no domain change (no event, no plan moves): plain writes
in their own transaction, beside the bus.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from . import orm

STAFF, CUSTOMER = "staff", "customer"
EMAIL, WEBHOOK = "email", "webhook"


def _order_exists(session: Session, order_id: str) -> bool:
    o = orm.orders.c
    return session.scalar(select(o.order_id).where(o.order_id == order_id)) is not None


def set_staff_contacts(
    sessions: sessionmaker[Session],
    order_id: str,
    emails: Sequence[str],
    webhook: tuple[str, str] | None,
    now: datetime,
) -> bool:
    """Make the staff's contacts of the order exactly these (customers' own stay); a contact
    kept keeps its pending notices. False when there is no such order."""
    wanted: dict[tuple[str, str], str | None] = {(EMAIL, a): None for a in emails}
    if webhook is not None:
        wanted[(WEBHOOK, webhook[0])] = webhook[1]
    c = orm.order_contacts
    with sessions() as session, session.begin():
        if not _order_exists(session, order_id):
            return False
        rows = session.execute(
            select(c.c.id, c.c.channel, c.c.address, c.c.added_by).where(c.c.order_id == order_id)
        ).all()
        have = {(r.channel, r.address): r for r in rows}
        gone = [r.id for key, r in have.items() if r.added_by == STAFF and key not in wanted]
        if gone:
            session.execute(delete(c).where(c.c.id.in_(gone)))
        for (channel, address), secret in wanted.items():
            row = have.get((channel, address))
            if row is None:
                session.execute(
                    insert(c).values(
                        order_id=order_id,
                        channel=channel,
                        address=address,
                        secret=secret,
                        added_by=STAFF,
                        created_at=now,
                    )
                )
            elif channel == WEBHOOK:
                session.execute(update(c).where(c.c.id == row.id).values(secret=secret))
    return True


def add_customer_email(
    sessions: sessionmaker[Session], order_id: str, address: str, now: datetime, most: int
) -> bool:
    """Add an email the customer gave (no-op when the order has it already); False when the
    customer's emails of the order are `most` already."""
    c = orm.order_contacts.c
    with sessions() as session, session.begin():
        known = session.scalar(
            select(c.id).where(c.order_id == order_id, c.channel == EMAIL, c.address == address)
        )
        if known is not None:
            return True
        count = session.scalar(
            select(func.count())
            .select_from(orm.order_contacts)
            .where(c.order_id == order_id, c.added_by == CUSTOMER)
        )
        if (count or 0) >= most:
            return False
        session.execute(
            insert(orm.order_contacts).values(
                order_id=order_id,
                channel=EMAIL,
                address=address,
                added_by=CUSTOMER,
                created_at=now,
            )
        )
    return True
