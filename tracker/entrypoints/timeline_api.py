"""The Gantt's machine rows: off-shift windows, machine states and downtime over a range."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from tracker.views.machine_rows import machine_rows

from .deps import VIEWER, Clock, PlantLayout, ReadSession, Settings
from .errors import STAFF_ERRORS, unprocessable
from .request_models import DueAt

router = APIRouter(prefix="/api/v1", responses=STAFF_ERRORS)

MAX_RANGE = timedelta(days=14)


class Span(BaseModel):
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")


class OffShiftSpan(Span):
    kind: str = Field(description="holiday, break (within a shift) or off shift")


class StateSpan(Span):
    state: str = Field(description="RUNNING, IDLE, SETUP, DOWN or OFFLINE")


class StopSpan(Span):
    state: str = Field(description="the stop's kind: DOWN, or IDLE with a job bound")
    open: bool = Field(description="the stop lasts: `to` is now")
    reason: str | None
    category: str | None
    alarm_code: str | None


class MachineRowPublic(BaseModel):
    machine_id: str
    declared: bool = Field(description="the plant file declares it")
    calendar: str | None = Field(description="its work center's calendar; None: works 24/7")
    timezone: str | None = Field(description="the calendar's time zone")
    off_shift: list[OffShiftSpan] = Field(
        description="not working time: off shift, breaks, holidays"
    )
    states: list[StateSpan] = Field(description="the states it was in, oldest first")
    downtime: list[StopSpan] = Field(description="its downtime records, oldest first")


class MachineRowsPublic(BaseModel):
    now: datetime
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    truncated: bool = Field(description="too many state changes: only the newest are listed")
    machines: list[MachineRowPublic] = Field(description="declared machines first, in order")


From = Annotated[DueAt | None, Query(alias="from", description="default: a day before `to`/now")]
To = Annotated[DueAt | None, Query(alias="to", description="default: 8 days after `from`")]


@router.get(
    "/schedule/machines",
    response_model=MachineRowsPublic,
    response_model_by_alias=True,
    dependencies=[VIEWER],
    tags=["plan"],
)
def schedule_machines(
    start: From = None,
    end: To = None,
    *,
    session: ReadSession,
    clock: Clock,
    plant: PlantLayout,
    settings: Settings,
) -> MachineRowsPublic:
    """The Gantt's rows: every machine (the plant file's first, in its order) with its
    off-shift windows, its states and its downtime in the range (at most 14 days)."""
    now = clock()
    start = start or (end or now) - timedelta(days=1)
    end = end or start + timedelta(days=8)
    if end <= start:
        raise unprocessable(("query", "to"), "`to` must be after `from`")
    if end - start > MAX_RANGE:
        raise unprocessable(("query", "to"), "the range is at most 14 days")
    found = machine_rows(session, plant, now, start, end, settings.downtime_min_s)
    return MachineRowsPublic.model_validate(found)
