"""Rotating and revoking a customer's token: the one write of the orders table outside the bus.

Rotating or revoking is no domain change (no event, no plan or alert moves), so it is a plain
UPDATE of one column in its own transaction rather than a command on the bus; it touches nothing
the bus writes.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from tracker.auth.order_tokens import REVOKED, hash_token, new_token

from . import orm


def _set_hash(sessions: sessionmaker[Session], order_id: str, token_hash: str) -> bool:
    o = orm.orders.c
    with sessions() as session, session.begin():
        result = session.execute(
            update(orm.orders).where(o.order_id == order_id).values(token_hash=token_hash)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def rotate(sessions: sessionmaker[Session], order_id: str) -> str | None:
    """A new token for the order (returned once; only its hash is kept), None if no order.
    The old token stops working."""
    token = new_token()
    return token if _set_hash(sessions, order_id, hash_token(token)) else None


def revoke(sessions: sessionmaker[Session], order_id: str) -> bool:
    """No token works for the order until it is rotated; False if no order."""
    return _set_hash(sessions, order_id, REVOKED)
