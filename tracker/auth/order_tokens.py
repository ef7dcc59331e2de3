"""Customers' per-order tokens: random, shown once, stored only as a hash, compared in constant
time; rotated and revoked.

Rotating or revoking is no domain change (no event, no plan or alert moves), so it is a plain
UPDATE of one column in its own transaction rather than a command on the bus; it touches nothing
the bus writes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from tracker.adapters import orm

# stored for a revoked token: no hex digest equals it, and it is as long as one, so checking a
# token against it takes the time any other check takes
REVOKED = "-" * 64


def new_token() -> str:
    """A fresh customer token (192 random bits)."""
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    # tokens carry 192 random bits, so a plain SHA-256 cannot be brute-forced; no salt needed
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str | None, stored_hash: str | None) -> bool:
    """Constant-time check; a missing token or order compares like a wrong one."""
    candidate = hash_token(token or "")
    return hmac.compare_digest(candidate, stored_hash or "0" * 64)


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
