"""What `GET /api/v1/oee` answers: OEE figures per machine, work center, line and period."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tracker.domain.oee import Oee

_MIN = 60.0


class LossesPublic(BaseModel):
    """The four losses of planned production time, in minutes or in percent of it."""

    unplanned_stop: float = Field(description="DOWN and IDLE (and SETUP if not planned)")
    unknown: float = Field(description="OFFLINE, or no state known: never counted as running")
    performance: float = Field(description="run time less the ideal time of the parts made")
    quality: float = Field(description="the ideal time of the scrapped parts")


class OeeFigures(BaseModel):
    """A, P, Q and OEE (0-1; null when their denominator is 0) and the minutes behind them."""

    availability: float | None = Field(description="run time / planned production time")
    performance: float | None = Field(description="ideal cycle x parts / run time")
    quality: float | None = Field(description="good / all parts (weighed by ideal cycle)")
    oee: float | None = Field(description="A x P x Q = effective / planned production time")
    planned_min: float = Field(
        description="planned production time: shifts less breaks, "
        "holidays and planned stops, up to now"
    )
    planned_stop_min: float = Field(description="working time in a planned stop (SETUP)")
    run_min: float
    effective_min: float = Field(description="the ideal time of the good parts")
    losses_min: LossesPublic = Field(description="with effective_min: planned_min")
    losses_pct: LossesPublic = Field(description="each loss in percent of planned_min")
    biggest_loss: str | None = Field(description="the largest loss's name; null without loss")
    good: float = Field(description="good parts (an operation crossing the window: its share)")
    scrap: float


def _pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole > 0 else 0.0


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def figures(o: Oee) -> dict[str, Any]:
    """The public fields of one set of figures (minutes rounded to 0.01)."""
    losses = o.losses_s()
    biggest = max(losses, key=lambda k: losses[k])
    return {
        "availability": _ratio(o.availability),
        "performance": _ratio(o.performance),
        "quality": _ratio(o.quality),
        "oee": _ratio(o.oee),
        "planned_min": round(o.planned_s / _MIN, 2),
        "planned_stop_min": round(o.planned_stop_s / _MIN, 2),
        "run_min": round(o.run_s / _MIN, 2),
        "effective_min": round(o.effective_s / _MIN, 2),
        "losses_min": {k: round(v / _MIN, 2) for k, v in losses.items()},
        "losses_pct": {k: _pct(v, o.planned_s) for k, v in losses.items()},
        "biggest_loss": biggest if losses[biggest] > 0 else None,
        "good": round(o.good, 2),
        "scrap": round(o.scrap, 2),
    }


class MachineOeePublic(OeeFigures):
    machine_id: str
    work_center: str | None
    line: str | None


class WorkCenterOeePublic(OeeFigures):
    work_center: str


class LineOeePublic(OeeFigures):
    line: str


class _Window(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")


class PeriodOeePublic(_Window):
    """One shift or day: its sums and its machines."""

    total: OeeFigures
    machines: list[MachineOeePublic]
    work_centers: list[WorkCenterOeePublic]
    lines: list[LineOeePublic]


class OeeReportPublic(PeriodOeePublic):
    """OEE of the selected machines over [from, to), counted up to `as_of`."""

    as_of: datetime
    group_by: str | None = Field(description="shift, day or null")
    planned_stop_states: list[str] = Field(description="states outside planned production time")
    periods: list[PeriodOeePublic] = Field(description="per shift or day, with group_by")
