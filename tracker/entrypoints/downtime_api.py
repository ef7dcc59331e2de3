"""Downtime: the records of machines' unplanned stops, the Pareto of lost minutes, and a
person's reason for a stop."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AwareDatetime

from tracker.domain import commands
from tracker.domain.downtime import ParetoBy
from tracker.service_layer.downtime_handlers import StopNotFound, UnknownReason
from tracker.views import downtime as views

from .deps import Bus, Clock, Operator, ReadSession, ReadSessions, Settings, Viewer
from .downtime_models import DowntimePublic, ParetoBarPublic, ParetoPublic, StopClassification
from .errors import STAFF_ERRORS, problems, unprocessable
from .request_models import RowId

router = APIRouter(prefix="/api/v1/downtime", responses=STAFF_ERRORS, tags=["downtime"])

Since = Annotated[AwareDatetime | None, Query(alias="from")]
Until = Annotated[AwareDatetime | None, Query(alias="to")]
StopId = RowId
DEFAULT_WINDOW = timedelta(days=1)


@router.get("", response_model=list[DowntimePublic])
def downtime(
    _who: Viewer,
    session: ReadSession,
    clock: Clock,
    settings: Settings,
    since: Since = None,
    until: Until = None,
    machine: Annotated[str | None, Query(max_length=100)] = None,
    reason: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DowntimePublic]:
    """Downtime records overlapping the window, newest first (at most `limit`)."""
    rows = views.records(
        session,
        clock(),
        settings.downtime_min_s,
        machine=machine,
        reason=reason,
        since=since,
        until=until,
        limit=limit,
    )
    return [DowntimePublic.model_validate(r) for r in rows]


@router.get("/pareto", response_model=ParetoPublic, response_model_by_alias=True)
def downtime_pareto(
    _who: Viewer,
    session: ReadSession,
    clock: Clock,
    settings: Settings,
    since: Since = None,
    until: Until = None,
    by: ParetoBy = ParetoBy.REASON,
) -> ParetoPublic:
    """Minutes lost in the window (default: the last 24 hours) by reason, machine or category,
    largest first, with the number of stops; open stops count up to now."""
    now = clock()
    end = until or now
    start = since or end - DEFAULT_WINDOW
    if end <= start:
        raise unprocessable(("query", "to"), "`to` must be after `from`")
    bars = views.pareto_of(session, now, settings.downtime_min_s, start, end, by)
    return ParetoPublic(
        by=by.value,
        since=start,
        until=end,
        bars=[ParetoBarPublic(key=b.key, minutes=b.minutes, count=b.count) for b in bars],
    )


def _not_found(stop_id: int) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"downtime record {stop_id} not found")


@router.put("/{stop_id}/reason", response_model=DowntimePublic, responses=problems(404))
def classify(
    stop_id: StopId,
    body: StopClassification,
    who: Operator,
    bus: Bus,
    sessions: ReadSessions,
    clock: Clock,
) -> DowntimePublic:
    """Give a stop its reason (an operator only on the machines of its key); recorded with
    the key's name and the time, and changed again by a later classification."""
    with sessions() as session:
        found = views.record(session, clock(), stop_id)
    if found is None:
        raise _not_found(stop_id)
    if not who.may_work(found["machine_id"]):
        detail = f"this key may not classify stops of {found['machine_id']}"
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=detail)
    try:
        bus.handle(
            commands.ClassifyStop(stop_id, body.reason, who.name, body.comment, who.role.value)
        )
    except StopNotFound:
        raise _not_found(stop_id) from None
    except UnknownReason as exc:
        raise unprocessable(("body", "reason"), str(exc)) from None
    with sessions() as session:  # after the command's commit
        found = views.record(session, clock(), stop_id)
    if found is None:  # its stop ended, shorter than the minimum, in the meantime
        raise _not_found(stop_id)
    return DowntimePublic.model_validate(found)
