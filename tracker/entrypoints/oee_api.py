"""`GET /api/v1/oee`: OEE per machine, work center and line, for the current shift or a window."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from tracker.domain.oee import PLANNED_STOP_STATES, total
from tracker.domain.oee_periods import current_shift
from tracker.domain.planning.model import ALWAYS
from tracker.domain.routing import Plant
from tracker.views.oee_report import (
    GroupBy,
    MachineOee,
    UnknownName,
    oee_report,
    select_machines,
    sums,
)

from .deps import VIEWER, Clock, PlantLayout, ReadSession
from .errors import STAFF_ERRORS, unprocessable
from .oee_responses import (
    LineOeePublic,
    MachineOeePublic,
    OeeReportPublic,
    WorkCenterOeePublic,
    figures,
)
from .request_models import MACHINE_ID

# a longer window is a report to export, not a read to answer in one request
MAX_WINDOW = timedelta(days=31)

router = APIRouter(prefix="/api/v1", responses=STAFF_ERRORS)

Name = Annotated[str | None, Query(min_length=1, max_length=100, pattern=MACHINE_ID)]


def _window(
    start: datetime | None, end: datetime | None, now: datetime, plant: Plant, first: str | None
) -> tuple[datetime, datetime]:
    """[from, to): as given, else the current shift of the (first) selected machine."""
    if start is None:
        if end is not None:
            raise unprocessable(("query", "from"), "`from` is required with `to`")
        return current_shift(plant.calendar_of(first) if first else ALWAYS, now)
    end = end or now
    if end <= start:
        raise unprocessable(("query", "to"), "`to` must be after `from`")
    if end - start > MAX_WINDOW:
        raise unprocessable(
            ("query", "to"), f"the window is at most {MAX_WINDOW.days} days (ask per month)"
        )
    return start, end


def _section(rows: list[MachineOee]) -> dict[str, object]:
    """Totals, machines, work centers and lines of some rows, all summed as minutes."""
    return {
        "total": figures(total(r.figures for r in rows)),
        "machines": [
            MachineOeePublic(
                machine_id=r.machine_id,
                work_center=r.work_center,
                line=r.line,
                **figures(r.figures),
            )
            for r in rows
        ],
        "work_centers": [
            WorkCenterOeePublic(work_center=name, **figures(o))
            for name, o in sums(rows, lambda r: r.work_center).items()
        ],
        "lines": [
            LineOeePublic(line=name, **figures(o))
            for name, o in sums(rows, lambda r: r.line).items()
        ],
    }


@router.get("/oee", response_model=OeeReportPublic, dependencies=[VIEWER], tags=["machines"])
def oee(
    machine: Name = None,
    work_center: Name = None,
    line: Name = None,
    start: Annotated[
        AwareDatetime | None, Query(alias="from", description="default: the current shift")
    ] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to", description="default: now")] = None,
    group_by: GroupBy | None = None,
    *,
    session: ReadSession,
    plant: PlantLayout,
    clock: Clock,
) -> OeeReportPublic:
    """OEE (availability x performance x quality) and its losses in minutes, summed per work
    center, line and the selection; per shift or day with `group_by`."""
    now = clock()
    try:
        selected = select_machines(session, plant, machine, work_center, line)
    except UnknownName as exc:
        raise unprocessable(("query",), str(exc)) from None
    window = _window(start, end, now, plant, selected[0] if selected else None)
    report = oee_report(session, plant, selected, window, now, group_by)
    return OeeReportPublic.model_validate(
        {
            "from": report.start,
            "to": report.end,
            "as_of": report.as_of,
            "group_by": group_by,
            "planned_stop_states": sorted(PLANNED_STOP_STATES),
            **_section(report.machines),
            "periods": [
                {"from": p.start, "to": p.end, **_section(p.machines)} for p in report.periods
            ],
        }
    )
