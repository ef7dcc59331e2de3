"""The shift report of a line: output per order, OEE per machine, the top losses, incidents."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tracker.adapters import orm
from tracker.domain.downtime import ParetoBar, ParetoBy
from tracker.domain.oee import Oee, machine_oee, total
from tracker.domain.oee_periods import Period
from tracker.domain.planning.calendar import WorkingTime
from tracker.domain.routing import Plant

from .downtime import pareto_of
from .oee import oee_inputs, operation_runs
from .oee_report import MachineOee, work_center_of

TOP_LOSSES = 5  # the downtime reasons a report shows; the rest are in the downtime Pareto


@dataclass(frozen=True)
class OrderOutput:
    """What one operation of an order made on a machine in the shift (its share of parts)."""

    order_id: str
    customer: str
    product: str
    seq: int
    operation: str
    machine_id: str
    good: float
    scrap: float
    quantity: int


@dataclass(frozen=True)
class ShiftReport:
    """One line's shift: [start, end) counted up to `as_of`."""

    line: str | None
    start: datetime
    end: datetime
    as_of: datetime
    machines: list[MachineOee]
    total: Oee
    output: list[OrderOutput]
    losses: list[ParetoBar]  # downtime minutes by reason, largest first
    incidents: list[dict[str, Any]]


def _output(
    session: Session, plant: Plant, machine_ids: Sequence[str], window: Period, now: datetime
) -> tuple[list[MachineOee], list[OrderOutput]]:
    """Each machine's figures, and each operation's share of the parts made in the window."""
    start, end = window
    hi = min(end, now)
    inputs = oee_inputs(session, plant, machine_ids, start, hi)
    runs = operation_runs(session, plant, set(machine_ids), start, hi)
    rows: list[MachineOee] = []
    made: list[tuple[str, int, str, float, float]] = []
    for m in machine_ids:
        clock, got = WorkingTime(plant.calendar_of(m)), inputs[m]
        figures = machine_oee(start, end, now, clock, got.states, got.parts)
        rows.append(MachineOee(m, work_center_of(plant, m), plant.lines.get(m), figures))
        for run in runs.get(m, []):
            # the operation's share of its parts made in the window, as OEE counts it
            share = machine_oee(start, end, now, clock, got.states, [run.run])
            if share.good or share.scrap:
                made.append((run.order_id, run.seq, m, share.good, share.scrap))
    return rows, _orders(session, made)


def _orders(session: Session, made: list[tuple[str, int, str, float, float]]) -> list[OrderOutput]:
    """The output rows with their orders' customer, product, operation name and quantity."""
    if not made:
        return []
    o, op = orm.orders.c, orm.operations.c
    stmt = (
        select(o.order_id, o.customer, o.product, op.seq, op.name, op.quantity)
        .join(orm.operations, op.order_id == o.order_id)
        .where(o.order_id.in_({order_id for order_id, *_ in made}))
    )
    facts = {(r.order_id, r.seq): r for r in session.execute(stmt)}
    out = []
    for order_id, seq, machine, good, scrap in sorted(made):
        f = facts[(order_id, seq)]
        out.append(
            OrderOutput(
                order_id, f.customer, f.product, seq, f.name, machine, good, scrap, f.quantity
            )
        )
    return out


def _incidents(
    session: Session, machine_ids: Sequence[str], window: Period
) -> list[dict[str, Any]]:
    """The incidents of the machines that were open at some time in the window, oldest first."""
    i = orm.incidents.c
    stmt = (
        select(i.id, i.machine_id, i.cause, i.state, i.reason, i.reason_code, i.message)
        .add_columns(i.started_at, i.closed_at, i.acked_by, i.acked_at)
        .where(
            i.machine_id.in_(machine_ids),
            i.started_at < window[1],
            or_(i.closed_at.is_(None), i.closed_at > window[0]),
        )
        .order_by(i.started_at, i.id)
    )
    return [dict(row._mapping) for row in session.execute(stmt)]


def shift_report(
    session: Session,
    plant: Plant,
    line: str | None,
    machine_ids: Sequence[str],
    window: Period,
    now: datetime,
    downtime_min_s: float,
) -> ShiftReport:
    """The report of `machine_ids` (a line's) over the shift `window`, counted up to `now`."""
    machines, output = _output(session, plant, machine_ids, window, now)
    start, end = window
    bars = []
    if start < now:  # a shift to come has lost nothing yet
        bars = pareto_of(
            session, now, downtime_min_s, start, min(end, now), ParetoBy.REASON, machine_ids
        )
    return ShiftReport(
        line=line,
        start=start,
        end=end,
        as_of=now,
        machines=machines,
        total=total(r.figures for r in machines),
        output=output,
        losses=bars[:TOP_LOSSES],
        incidents=_incidents(session, machine_ids, window),
    )
