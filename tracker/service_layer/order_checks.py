"""The periodic check of every open order, read as plain rows: only orders with news are loaded.

Assessing 10,000 open orders as mapped objects (with their operations, locked) costs seconds;
most of them have no news. Here each order is assessed from a light read with the same pure
functions the domain uses; orders whose status, reasons or alert news change are loaded (and
locked) and assessed by the domain, which records the events; the others only get their fresh
ETA (when it moved a minute or more) and reasons stored in one bulk update.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from tracker.adapters import orm
from tracker.adapters.database import UnitOfWork
from tracker.domain.model import OPEN_STATUSES, OperationState, remaining_work_s
from tracker.domain.planning.model import Plan
from tracker.domain.schedule import (
    ETA_UPDATE_MIN_S,
    ActiveOperation,
    Assessment,
    ScheduleRules,
    ScheduleStatus,
    assess,
    eta_with_plan,
    schedule_news,
)

_OPEN = sorted(status.value for status in OPEN_STATUSES)


def check_open_orders(uow: UnitOfWork, now: datetime, plan: Plan | None) -> int:
    """Assess every open order; returns how many had news (those are loaded into `uow.seen`)."""
    session, rules = uow.session, uow.policy.rules
    o, m = orm.orders.c, orm.machines.c
    # the open orders first, locked in key order; orders a machine event holds are skipped
    # (it assesses them itself), so this check neither waits, deadlocks nor writes over it
    orders = session.execute(
        select(o.order_id, o.due_at, o.schedule_status, o.schedule_reasons, o.eta)
        .where(o.status.in_(_OPEN))
        .order_by(o.order_id)
        .with_for_update(skip_locked=True)
    ).all()
    states: dict[str, str] = {}
    bound: dict[tuple[str, int], list[str]] = defaultdict(list)
    for machine_id, state, order_id, seq in session.execute(
        select(m.machine_id, m.state, m.order_id, m.seq)
    ):
        states[machine_id] = state
        if order_id is not None:
            bound[(order_id, seq)].append(machine_id)
    ops = open_operations(session)
    news: list[str] = []
    quiet: list[dict[str, Any]] = []
    for order in orders:
        remaining = ops.get(order.order_id)
        if not remaining:
            continue
        eta, result, previous = _assess(order, remaining, states, bound, plan, now, rules)
        if (
            result.status is not previous
            or schedule_news(previous, order.schedule_reasons, order.eta, result, eta) is not None
        ):
            news.append(order.order_id)
        elif list(result.reasons) != list(order.schedule_reasons) or _moved(order.eta, eta):
            quiet.append({"o": order.order_id, "e": eta, "r": list(result.reasons)})
    if quiet:
        session.connection().execute(
            update(orm.orders)
            .where(o.order_id == bindparam("o"))
            .values(eta=bindparam("e"), schedule_reasons=bindparam("r")),
            quiet,
        )
        uow.touched_orders.update(row["o"] for row in quiet)  # live views hear of them
    for order_id in sorted(news):  # the bus assesses these through the domain
        uow.get_order(order_id, for_update=True)
    return len(news)


def open_operations(session: Session) -> dict[str, list[Any]]:
    """The operations still to do of every open order, in routing order, by order id."""
    o, op = orm.orders.c, orm.operations.c
    ops: dict[str, list[Any]] = defaultdict(list)
    for row in session.execute(
        select(
            op.order_id,
            op.seq,
            op.name,
            op.machine,
            op.setup_s,
            op.cycle_s,
            op.quantity,
            op.good_qty,
            op.state,
            op.started_at,
            op.observed_cycle_s,
        )
        .join(orm.orders, o.order_id == op.order_id)
        .where(o.status.in_(_OPEN), op.state != OperationState.COMPLETED.value)
        .order_by(op.order_id, op.seq)
    ):
        ops[row.order_id].append(row)
    return ops


def _moved(stored: datetime | None, eta: datetime) -> bool:
    """An ETA worth storing: on-track ETAs slide with the clock, so small moves wait."""
    return stored is None or abs((eta - stored).total_seconds()) >= ETA_UPDATE_MIN_S


def _assess(
    order: Any,
    remaining: list[Any],
    states: dict[str, str],
    bound: dict[tuple[str, int], list[str]],
    plan: Plan | None,
    now: datetime,
    rules: ScheduleRules,
) -> tuple[datetime, Assessment, ScheduleStatus]:
    """What `Order.assess_schedule` would conclude, from rows: (ETA, assessment, previous)."""
    work = sum(
        remaining_work_s(
            r.started_at is not None,
            r.setup_s,
            r.cycle_s,
            r.observed_cycle_s,
            r.quantity - r.good_qty,
        )
        for r in remaining
    )
    planned = plan.eta(order.order_id) if plan is not None else None
    eta = eta_with_plan(now + timedelta(seconds=work), planned)
    cur = remaining[0]
    machines = {cur.machine, *bound.get((order.order_id, cur.seq), ())}
    active = ActiveOperation(
        cur.seq,
        cur.name,
        cur.cycle_s,
        cur.observed_cycle_s,
        {mid: states[mid] for mid in machines if mid in states},
    )
    previous = ScheduleStatus(order.schedule_status)
    return eta, assess(eta, order.due_at, now, active, rules, previous), previous
