"""Parked messages: machine events that failed to apply, stored to be listed and replayed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from tracker.adapters import orm

MAX_REASON = 2000  # characters of the failure kept


@dataclass(frozen=True)
class ParkedMessage:
    """One message that parsed but could not be applied, and how it failed."""

    id: int
    topic: str
    payload: bytes
    reason: str
    traceback_id: str
    first_failed_at: datetime
    last_failed_at: datetime
    attempts: int


def failure_reason(exc: BaseException) -> str:
    """What a parked message says of its failure: the exception's type and message, storable."""
    return f"{type(exc).__name__}: {exc}".replace("\x00", "\\x00")[:MAX_REASON]


class ParkedMessages:
    """The `parked_messages` table: parking, replay bookkeeping (the listing is a view:
    `tracker.views.parked`)."""

    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    def park(
        self,
        topic: str,
        payload: bytes,
        reason: str,
        traceback_id: str,
        attempts: int,
        at: datetime,
    ) -> int:
        """Store a message that failed `attempts` times; its id."""
        row = {
            "topic": topic,
            "payload": payload,
            "reason": reason[:MAX_REASON],
            "traceback_id": traceback_id,
            "first_failed_at": at,
            "last_failed_at": at,
            "attempts": attempts,
        }
        with self._sessions.begin() as session:
            result = session.execute(insert(orm.parked_messages).values(row))
            key = cast(CursorResult[Any], result).inserted_primary_key
            assert key is not None
            return int(key[0])

    def get(self, parked_id: int) -> ParkedMessage | None:
        """One parked message, read through the writer (a replay acts on what is current)."""
        p = orm.parked_messages
        with self._sessions() as session:
            row = session.execute(select(p).where(p.c.id == parked_id)).first()
        return None if row is None else ParkedMessage(**row._mapping)

    def failed_again(self, parked_id: int, reason: str, traceback_id: str, at: datetime) -> None:
        """A replay failed too: count it, with the newest reason."""
        p = orm.parked_messages
        values = {
            "reason": reason[:MAX_REASON],
            "traceback_id": traceback_id,
            "last_failed_at": at,
            "attempts": p.c.attempts + 1,
        }
        with self._sessions.begin() as session:
            session.execute(update(p).where(p.c.id == parked_id).values(values))

    def remove(self, parked_id: int) -> bool:
        """Forget a replayed message; False if it was not there (any more)."""
        p = orm.parked_messages
        with self._sessions.begin() as session:
            result = session.execute(delete(p).where(p.c.id == parked_id))
            return cast(CursorResult[Any], result).rowcount > 0
