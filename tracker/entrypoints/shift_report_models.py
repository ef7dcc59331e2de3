"""What the shift report answers: JSON models, and the same report as CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tracker.domain.downtime import UNCLASSIFIED
from tracker.domain.routing import Plant
from tracker.views.shift_report import ShiftReport

from .oee_responses import MachineOeePublic, OeeFigures, figures


class ShiftPublic(BaseModel):
    """One shift of the report's day: its number and times."""

    model_config = ConfigDict(populate_by_name=True)

    number: int
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")


class OrderOutputPublic(BaseModel):
    """Parts one operation of an order made in the shift (its share of a longer operation)."""

    order_id: str
    customer: str
    product: str
    seq: int
    operation: str
    machine_id: str
    good: float
    scrap: float
    quantity: int = Field(description="the operation's quantity (the whole order's)")


class LossPublic(BaseModel):
    """Downtime minutes of one reason (code `unclassified` without one) and its stops."""

    reason: str
    name: str
    minutes: float
    stops: int


class IncidentSummary(BaseModel):
    """An incident open at some time in the shift."""

    id: int
    machine_id: str
    cause: str
    state: str
    reason: str | None
    reason_code: str | None
    message: str
    started_at: datetime
    closed_at: datetime | None
    acked_by: str | None
    acked_at: datetime | None


class ShiftReportPublic(BaseModel):
    """A line's shift: OEE, output per order, the top losses and the incidents."""

    model_config = ConfigDict(populate_by_name=True)

    line: str | None = Field(description="null: every machine of the plant")
    day: date = Field(
        alias="date", description="the local day the shift starts on (its calendar's zone)"
    )
    shift: int = Field(description="the shift's number that day, 1 for the first")
    timezone: str
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    as_of: datetime
    shifts: list[ShiftPublic] = Field(description="the day's shifts, to pick another")
    lines: list[str] = Field(description="the plant's lines")
    total: OeeFigures
    machines: list[MachineOeePublic]
    output: list[OrderOutputPublic]
    losses: list[LossPublic] = Field(description="downtime by reason, largest first (top 5)")
    incidents: list[IncidentSummary]


def public(
    report: ShiftReport,
    plant: Plant,
    day: date,
    number: int,
    timezone: str,
    day_shifts: list[tuple[datetime, datetime]],
) -> ShiftReportPublic:
    """The report as the API answers it."""
    reasons = {UNCLASSIFIED: "Not classified yet"} | {
        code: r.name for code, r in plant.reasons.reasons.items()
    }
    return ShiftReportPublic.model_validate(
        {
            "line": report.line,
            "date": day,
            "shift": number,
            "timezone": timezone,
            "from": report.start,
            "to": report.end,
            "as_of": report.as_of,
            "shifts": [{"number": i, "from": a, "to": b} for i, (a, b) in enumerate(day_shifts, 1)],
            "lines": sorted(set(plant.lines.values())),
            "total": figures(report.total),
            "machines": [
                {"machine_id": r.machine_id, "work_center": r.work_center, "line": r.line}
                | figures(r.figures)
                for r in report.machines
            ],
            "output": [vars(o) for o in report.output],
            "losses": [
                {
                    "reason": b.key,
                    "name": reasons.get(b.key, b.key),
                    "minutes": b.minutes,
                    "stops": b.count,
                }
                for b in report.losses
            ],
            "incidents": report.incidents,
        }
    )


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text: no formula from a machine's message (CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return "" if value is None else value


def as_csv(report: ShiftReportPublic) -> str:
    """The report as CSV: blocks (header, machines, output, losses, incidents) apart by a
    blank line, each with its own header row."""
    out = io.StringIO()
    w = csv.writer(out)

    def rows(header: list[str], body: list[list[Any]]) -> None:
        w.writerow(header)
        w.writerows([[_cell(v) for v in row] for row in body])
        w.writerow([])

    span = [report.start.isoformat(), report.end.isoformat(), report.as_of.isoformat()]
    rows(
        ["line", "date", "shift", "from", "to", "as_of"],
        [[report.line or "all", report.day.isoformat(), report.shift, *span]],
    )
    keys = ["availability", "performance", "quality", "oee", "planned_min", "run_min"]
    losses = ["unplanned_stop", "unknown", "performance", "quality"]

    def oee_row(name: str, f: OeeFigures) -> list[Any]:
        lost = [getattr(f.losses_min, k) for k in losses]
        return [name, *(getattr(f, k) for k in keys), *lost, f.good, f.scrap]

    rows(
        ["machine", *keys, *(f"{k}_loss_min" for k in losses), "good", "scrap"],
        [oee_row(m.machine_id, m) for m in report.machines] + [oee_row("total", report.total)],
    )
    fields = list(OrderOutputPublic.model_fields)
    rows(fields, [[getattr(o, f) for f in fields] for o in report.output])
    rows(
        ["reason", "name", "minutes", "stops"],
        [[b.reason, b.name, b.minutes, b.stops] for b in report.losses],
    )
    fields = list(IncidentSummary.model_fields)
    incidents = [[getattr(i, f) for f in fields] for i in report.incidents]
    rows([f"incident_{fields[0]}", *fields[1:]], incidents)
    return out.getvalue()


def filename(report: ShiftReportPublic) -> str:
    """`shift-report-<line>-<date>-<shift>.csv`, safe in a Content-Disposition header."""
    line = re.sub(r"[^A-Za-z0-9._-]", "_", report.line or "all")[:60]
    return f"shift-report-{line}-{report.day.isoformat()}-{report.shift}.csv"
