"""`GET /api/v1/reports/shift` (JSON) and `/api/v1/reports/shift.csv`: a line's shift report."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from tracker.domain.planning.model import ALWAYS
from tracker.domain.shift_pick import NoSuchShift, pick_shift, shift_number, shifts_on
from tracker.views.oee_report import UnknownName, select_machines
from tracker.views.shift_report import shift_report

from .deps import VIEWER, Clock, PlantLayout, ReadSession, Settings
from .errors import STAFF_ERRORS, unprocessable
from .request_models import MACHINE_ID
from .shift_report_models import ShiftReportPublic, as_csv, filename, public

router = APIRouter(prefix="/api/v1/reports", responses=STAFF_ERRORS, tags=["machines"])

Line = Annotated[
    str | None,
    Query(min_length=1, max_length=100, pattern=MACHINE_ID, description="default: every machine"),
]
# far from datetime's ends: a shift runs into the next day, and its zone may be hours away
Day = Annotated[
    date | None,
    Query(
        alias="date",
        ge=date(1971, 1, 1),
        le=date(2199, 12, 31),
        description="the local day the shift starts on; default: the current or last shift",
    ),
]
Number = Annotated[
    int | None, Query(alias="shift", ge=1, le=10, description="the shift's number that day")
]


def shift_report_of(
    session: ReadSession,
    plant: PlantLayout,
    clock: Clock,
    settings: Settings,
    line: Line = None,
    day: Day = None,
    number: Number = None,
) -> ShiftReportPublic:
    """The report the query asks for (both routes take it as a dependency)."""
    now = clock()
    try:
        machines = select_machines(session, plant, line=line)
    except UnknownName as exc:
        raise unprocessable(("query", "line"), str(exc)) from None
    # a line's machines share a calendar, as a rule; the first one's says when its shifts are
    calendar = plant.calendar_of(machines[0]) if machines else ALWAYS
    try:
        window = pick_shift(calendar, now, day, number)
    except NoSuchShift as exc:
        raise unprocessable(("query", "shift" if day else "date"), str(exc)) from None
    first_day, n = shift_number(calendar, window)
    min_s = settings.downtime_min_s
    report = shift_report(session, plant, line, machines, window, now, min_s)
    return public(report, plant, first_day, n, calendar.timezone, shifts_on(calendar, first_day))


Report = Annotated[ShiftReportPublic, Depends(shift_report_of)]


@router.get("/shift", response_model=ShiftReportPublic, dependencies=[VIEWER])
def shift(report: Report) -> ShiftReportPublic:
    """A line's shift report: output per order, OEE per machine and in total, the top
    downtime reasons and the incidents; the current (or last) shift by default."""
    return report


@router.get(
    "/shift.csv",
    dependencies=[VIEWER],
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "the report as CSV"}},
)
def shift_csv(report: Report) -> Response:
    """The shift report as CSV (blocks apart by a blank line), as a file to save."""
    return Response(
        as_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename(report)}"'},
    )
