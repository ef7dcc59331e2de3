"""Admins' routes for parked messages: machine events that failed to apply, listed and replayed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel

from shopfloor.contract.dead_letters import payload_text
from tracker.adapters.database_errors import transient
from tracker.adapters.parked import ParkedMessage, failure_reason
from tracker.views.parked import parked_page

from .deps import ADMIN, Clock, Consumer, Parked, ReadSession
from .errors import STAFF_ERRORS, problems
from .request_models import RowId

ParkedId = RowId


class ParkedPublic(BaseModel):
    """A parked message: where it came from, what it said and how it failed."""

    id: int
    topic: str
    payload: str | None = None  # the payload when it is UTF-8 ...
    payload_base64: str | None = None  # ... else base64
    reason: str
    traceback_id: str
    first_failed_at: datetime
    last_failed_at: datetime
    attempts: int


class ParkedPage(BaseModel):
    """A page of parked messages, oldest first, and how many there are."""

    total: int
    limit: int
    offset: int
    parked: list[ParkedPublic]


class ReplayPublic(BaseModel):
    """A replayed message, applied now (or found applied before) and removed from the list."""

    id: int
    outcome: Literal["applied"]


def _public(row: ParkedMessage) -> ParkedPublic:
    return ParkedPublic(
        id=row.id,
        topic=row.topic,
        reason=row.reason,
        traceback_id=row.traceback_id,
        first_failed_at=row.first_failed_at,
        last_failed_at=row.last_failed_at,
        attempts=row.attempts,
        **payload_text(row.payload),
    )


# listing, replaying and discarding parked messages need an admin's key
router = APIRouter(
    prefix="/api/v1/dead-letters", responses=STAFF_ERRORS, dependencies=[ADMIN], tags=["admin"]
)


@router.get("", response_model=ParkedPage, response_model_exclude_none=True)
def parked(
    session: ReadSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> ParkedPage:
    """Machine events that parsed but could not be applied, oldest first."""
    total, rows = parked_page(session, limit, offset)
    return ParkedPage(total=total, limit=limit, offset=offset, parked=[_public(r) for r in rows])


@router.post("/{parked_id}/replay", response_model=ReplayPublic, responses=problems(404, 409, 503))
def replay(parked_id: ParkedId, store: Parked, consumer: Consumer, clock: Clock) -> ReplayPublic:
    """Apply a parked message again (once its cause is fixed); removed once applied."""
    row = store.get(parked_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no parked message {parked_id}")
    try:
        refused = consumer.replay(row.topic, row.payload, row.first_failed_at)
    except Exception as exc:
        if transient(exc):
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, detail="the database is unavailable"
            ) from exc
        tid = consumer.failed_replay(row.topic, exc)
        store.failed_again(parked_id, failure_reason(exc), tid, clock())
        detail = f"parked message {parked_id} still fails: {failure_reason(exc)} [{tid}]"
        raise HTTPException(status.HTTP_409_CONFLICT, detail=detail) from exc
    if refused is not None:
        detail = f"parked message {parked_id} is refused: {refused}; discard it with DELETE"
        raise HTTPException(status.HTTP_409_CONFLICT, detail=detail)
    store.remove(parked_id)
    return ReplayPublic(id=parked_id, outcome="applied")


@router.delete("/{parked_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404))
def discard(parked_id: ParkedId, store: Parked) -> Response:
    """Forget a parked message without applying it."""
    if not store.remove(parked_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no parked message {parked_id}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
