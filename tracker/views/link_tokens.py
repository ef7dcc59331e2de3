"""Whether a token opens an order: its own, or a tracking link's (tracker/adapters/link_tokens.py
mints them)."""

from __future__ import annotations

import hmac
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.adapters import orm
from tracker.auth.order_tokens import REVOKED, hash_token, token_matches


def link_opens(
    session: Session, order_id: str, given: str | None, order_hash: str | None, now: datetime
) -> bool:
    """True when `given` is an unexpired link token of the order minted under its current
    token (`order_hash`); one indexed read whatever the answer."""
    t = orm.order_link_tokens.c
    minted_under = session.scalar(
        select(t.order_token_hash).where(
            t.token_hash == hash_token(given or ""), t.order_id == order_id, t.expires_at > now
        )
    )
    current = order_hash if order_hash not in (None, REVOKED) else "!" * 64
    return hmac.compare_digest(minted_under or "0" * 64, current or "")


def token_opens(
    session: Session, order_id: str, given: str | None, order_hash: str | None, now: datetime
) -> bool:
    """True when `given` is the order's token or one of its links' (both checked, always)."""
    linked = link_opens(session, order_id, given, order_hash, now)
    return token_matches(given, order_hash) or linked
