"""Machine charts: a machine's telemetry downsampled from the store, with its states and alarms."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import AwareDatetime

from tracker.adapters.telemetry import make_telemetry_store
from tracker.domain.telemetry import TelemetryQuery
from tracker.service_layer.telemetry import TelemetryStore, TelemetryUnavailable
from tracker.views import machine_timeline

from .deps import VIEWER, Clock, ReadSession, parts
from .errors import STAFF_ERRORS, problems, unprocessable
from .request_models import MachineId
from .telemetry_responses import AlarmMarker, StateBand, TelemetryPublic

MAX_RANGE = timedelta(days=31)
MAX_POINTS = 2000
DEFAULT_RANGE = timedelta(hours=8)
_CHANNELS = re.compile(r"[^,\x00-\x1f]{1,200}(,[^,\x00-\x1f]{1,200}){0,49}")

router = APIRouter(prefix="/api/v1", responses=STAFF_ERRORS)


async def telemetry_store(request: Request) -> TelemetryStore:
    """The telemetry store of this app's settings, opened at its first chart."""
    state = request.app.state
    store: TelemetryStore | None = getattr(state, "telemetry", None)
    if store is None:  # on the event loop: no two requests get here at once
        store = state.telemetry = make_telemetry_store(parts(request).settings.telemetry)
    return store


Telemetry = Annotated[TelemetryStore, Depends(telemetry_store)]


@router.get(
    "/machines/{machine_id}/telemetry",
    response_model=TelemetryPublic,
    dependencies=[VIEWER],
    responses=problems(503),
    tags=["machines"],
)
def machine_telemetry(
    machine_id: MachineId,
    start: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    channels: Annotated[str | None, Query(max_length=2000, pattern=_CHANNELS.pattern)] = None,
    points: Annotated[int, Query(ge=1, le=MAX_POINTS)] = 1000,
    *,
    store: Telemetry,
    session: ReadSession,
    clock: Clock,
) -> TelemetryPublic:
    """The machine's channels (`channels`: comma-separated; all by default) from `from` to `to`
    (default: the last 8 hours; 31 days at most), each at most `points` means of equal buckets,
    with the states it was in and the alarms it raised; 503 when the store does not answer."""
    now = clock()
    end = end or now
    start = start or end - DEFAULT_RANGE
    if end <= start:
        raise unprocessable(("query", "to"), "must be after `from`")
    if end - start > MAX_RANGE:
        raise unprocessable(("query", "from"), f"the range may be {MAX_RANGE.days} days at most")
    names = tuple(dict.fromkeys(channels.split(","))) if channels else None
    query = TelemetryQuery(machine_id, start, end, names, points)
    try:
        series = store.read(query)
    except TelemetryUnavailable as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"telemetry store unavailable: {exc}"
        ) from None
    states = machine_timeline.state_bands(session, machine_id, start, end, now)
    alarms = machine_timeline.alarms_between(session, machine_id, start, end)
    return TelemetryPublic.model_validate(
        {
            "machine": machine_id,
            "from": start,
            "to": end,
            "bucket_s": series.bucket_s,
            "channels": series.channels,
            "states": [StateBand.model_validate(s) for s in states],
            "alarms": [AlarmMarker.model_validate(a) for a in alarms],
        }
    )
