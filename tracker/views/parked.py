"""Read models of the dead letters: parked messages listed, oldest first, and counted."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.adapters import orm
from tracker.adapters.parked import ParkedMessage


def parked_page(session: Session, limit: int, offset: int) -> tuple[int, list[ParkedMessage]]:
    """How many are parked, and those from `offset` on, oldest first."""
    p = orm.parked_messages
    total = session.execute(select(func.count()).select_from(p)).scalar_one()
    rows = session.execute(select(p).order_by(p.c.id).limit(limit).offset(offset)).all()
    return total, [ParkedMessage(**row._mapping) for row in rows]


def parked_count(session: Session) -> int:
    """How many messages are parked."""
    return int(session.execute(select(func.count()).select_from(orm.parked_messages)).scalar_one())
