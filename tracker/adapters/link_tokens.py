"""Tracking links in customers' notices: a fresh token per notice, only its hash kept.

A link token opens its order's progress like the order's own token, until it expires and only
while the order's token is the one it was minted under: rotating or revoking that token ends
every link sent before (docs/customer-notifications.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from tracker.auth.order_tokens import REVOKED, hash_token, new_token

from . import orm


def mint_link_token(session: Session, order_id: str, now: datetime, ttl: timedelta) -> str | None:
    """A new link token for the order (returned once), None when the order has no working
    token (revoked, or gone); the order's expired links are dropped on the way."""
    o, t = orm.orders.c, orm.order_link_tokens
    stored = session.scalar(select(o.token_hash).where(o.order_id == order_id))
    if stored is None or stored == REVOKED:
        return None
    session.execute(delete(t).where(t.c.order_id == order_id, t.c.expires_at <= now))
    token = new_token()
    session.execute(
        insert(t).values(
            token_hash=hash_token(token),
            order_id=order_id,
            order_token_hash=stored,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return token
