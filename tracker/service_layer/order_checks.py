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

from tracker.domain.model import remaining_work_s
from tracker.domain.planning.model import Plan
from tracker.domain.schedule import (
    ETA_UPDATE_MIN_S,
    ActiveOperation,
    Assessment,
    OnTimeOdds,
    ScheduleRules,
    ScheduleStatus,
    assess,
    eta_with_plan,
    schedule_news,
)

from .unit_of_work import UnitOfWork


def check_open_orders(uow: UnitOfWork, now: datetime, plan: Plan | None) -> int:
    """Assess every open order; returns how many had news (those are loaded into `uow.seen`)."""
    rules = uow.policy.rules
    # the open orders first, locked in key order (those a machine event holds are skipped)
    orders = uow.open_order_rows()
    states: dict[str, str] = {}
    bound: dict[tuple[str, int], list[str]] = defaultdict(list)
    for machine_id, state, order_id, seq in uow.machine_rows():
        states[machine_id] = state
        if order_id is not None:
            bound[(order_id, seq)].append(machine_id)
    ops = uow.open_operations()
    news: list[str] = []
    quiet: list[dict[str, Any]] = []
    for order in orders:
        remaining = ops.get(order.order_id)
        if not remaining:
            continue
        odds = uow.odds.get(order.order_id)
        eta, result, previous = _assess(order, remaining, states, bound, plan, now, rules, odds)
        if (
            result.status is not previous
            or schedule_news(previous, order.schedule_reasons, order.eta, result, eta) is not None
        ):
            news.append(order.order_id)
        elif list(result.reasons) != list(order.schedule_reasons) or _moved(order.eta, eta):
            quiet.append({"o": order.order_id, "e": eta, "r": list(result.reasons)})
    uow.store_assessments(quiet)
    # the bus assesses these through the domain: loaded and locked in one query, in key order
    uow.lock_for_batch((), news)
    for order_id in sorted(news):
        uow.get_order(order_id, for_update=True)
    return len(news)


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
    odds: OnTimeOdds | None = None,
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
    return eta, assess(eta, order.due_at, now, active, rules, previous, odds), previous
