"""OEE's inputs, read in bulk: the machines' state periods and the parts their operations made.

A few queries for any number of machines (the states of all of them in one, the operations
that counted parts in the window in one, the machines that started them in a few), so 100
machines over a week cost what their rows cost.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import ColumnElement, Float, and_, cast, extract, func, select
from sqlalchemy.orm import Session

from tracker.adapters import orm
from tracker.domain.oee import PartRun, StatePeriod
from tracker.domain.routing import Plant

# parts are shared out by the RUNNING time of their operation's whole span: states are read
# this far before the window at most (an operation started earlier shares by wall time)
REACH_BACK = timedelta(days=31)
# the index (machine_id, started_at) bounds the scan from below too, so a year of history
# costs nothing; a closed state period longer than this that began before `reach` is unknown
LONGEST_PERIOD = timedelta(days=31)
_BIND_MARGIN = timedelta(days=1)
_CHUNK = 500  # ids per IN (...), well below every database's limit on bound parameters


def _epoch(session: Session, column: ColumnElement[datetime]) -> ColumnElement[float]:
    """A UTC datetime column as POSIX seconds, computed by the database: a week of states is
    ~100,000 rows, whose datetimes would cost more to build than the OEE arithmetic."""
    if session.get_bind().dialect.name == "sqlite":
        # stored as naive UTC text; julianday keeps ~40 us of precision at today's dates
        return (func.julianday(column) - 2440587.5) * 86400.0
    return cast(extract("epoch", column), Float)


@dataclass(frozen=True)
class MachineInputs:
    """What `machine_oee` needs of one machine, as the database has it."""

    states: list[StatePeriod] = field(default_factory=list)
    parts: list[PartRun] = field(default_factory=list)


def known_machines(session: Session, plant: Plant) -> list[str]:
    """Machines of the plant file and every machine the tracker has heard from, sorted."""
    heard = session.scalars(select(orm.machines.c.machine_id))
    return sorted({*plant.machines, *heard})


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _starters(session: Session, since: datetime, hi: datetime) -> dict[tuple[str, int], str]:
    """The machine that first started each (order, operation) in [since, hi): job bindings."""
    b = orm.job_bindings.c
    stmt = (
        select(b.order_id, b.seq, b.machine_id)
        .where(b.action == "start", b.at >= since, b.at < hi)
        .order_by(b.id)
    )
    found: dict[tuple[str, int], str] = {}
    for order_id, seq, machine_id in session.execute(stmt).all():
        found.setdefault((order_id, seq), machine_id)
    return found


class OperationRun(NamedTuple):
    """The parts an operation (order, seq) made on a machine."""

    order_id: str
    seq: int
    run: PartRun


def operation_runs(
    session: Session, plant: Plant, selected: set[str], lo: datetime, hi: datetime
) -> dict[str, list[OperationRun]]:
    """Per machine, the operations that counted parts in [lo, hi): span, counts, ideal cycle.

    The machine is the one that started the job (a job binding), else the routing's machine
    (a machine, or a work center of one), else the planned machine.
    """
    op = orm.operations.c
    end = func.coalesce(op.completed_at, op.last_count_at)
    stmt = select(
        op.order_id,
        op.seq,
        op.machine,
        op.planned_machine,
        op.cycle_s,
        op.good_qty,
        op.scrap_qty,
        _epoch(session, op.started_at).label("start"),
        _epoch(session, end).label("end"),
    ).where(
        op.started_at.is_not(None),
        op.started_at < hi,
        end >= lo,
        (op.good_qty > 0) | (op.scrap_qty > 0),
    )
    rows = session.execute(stmt).all()
    # a job is bound when (or before) its operation starts: a day's margin covers it
    earliest = min((row.start for row in rows), default=lo.timestamp())
    starters = _starters(session, datetime.fromtimestamp(earliest, UTC) - _BIND_MARGIN, hi)
    found: dict[str, list[OperationRun]] = defaultdict(list)
    routed: dict[str, tuple[str, ...]] = {}
    for row in rows:
        names = routed.get(row.machine) or routed.setdefault(
            row.machine, plant.machines_for(row.machine)
        )
        machine = starters.get((row.order_id, row.seq)) or (
            names[0] if len(names) == 1 else row.planned_machine
        )
        if machine in selected:
            run = PartRun(row.start, row.end, row.good_qty, row.scrap_qty, row.cycle_s)
            found[machine].append(OperationRun(row.order_id, row.seq, run))
    return found


def oee_inputs(
    session: Session, plant: Plant, machine_ids: Sequence[str], lo: datetime, hi: datetime
) -> dict[str, MachineInputs]:
    """Every selected machine's state periods and part runs that matter for [lo, hi)."""
    selected = set(machine_ids)
    by_operation = operation_runs(session, plant, selected, lo, hi)
    parts = {m: [r.run for r in runs] for m, runs in by_operation.items()}
    starts = [run.start for runs in parts.values() for run in runs]
    earliest = datetime.fromtimestamp(min(starts), UTC) if starts else lo
    reach = max(min(lo, earliest), lo - REACH_BACK)
    found = {m: MachineInputs(parts=parts.get(m, [])) for m in machine_ids}
    s, m = orm.machine_states.c, orm.machines.c
    for chunk in _chunks(list(machine_ids)):
        closed = select(
            s.machine_id, s.state, _epoch(session, s.started_at), _epoch(session, s.ended_at)
        ).where(
            s.machine_id.in_(chunk),
            and_(s.started_at >= reach - LONGEST_PERIOD, s.started_at < hi, s.ended_at > reach),
        )
        for machine_id, state, started, ended in session.execute(closed).all():
            found[machine_id].states.append(StatePeriod(state, started, ended))
        current = select(m.machine_id, m.state, _epoch(session, m.state_since)).where(
            m.machine_id.in_(chunk), m.state_since.is_not(None), m.state_since < hi
        )
        for machine_id, state, since in session.execute(current).all():
            found[machine_id].states.append(StatePeriod(state, since, None))
    return found
