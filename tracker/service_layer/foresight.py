"""P(on time), P50 and P90 of every open order, refreshed after each plan (off the event path).

The forecast is the estimator's (tracker/domain/foresight/estimator.py) over the current plan,
with each machine's failure and repair figures from its prior (the plant file's figures for it,
else the settings') blended with its recent state history, and its state now: a machine that
is DOWN or OFFLINE is free again after a repair of mean MTTR. It is kept in memory with the
plan it was made for, as the plan is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from tracker.domain.foresight.estimator import Forecast, MachineRisk, forecast
from tracker.domain.foresight.learning import MachineHistory, histories
from tracker.domain.foresight.priors import Priors
from tracker.domain.planning.model import Plan
from tracker.domain.schedule import STOPPED_STATES, OnTimeOdds

from .unit_of_work import PlanningSessions

log = logging.getLogger(__name__)
# how far back a machine's state history teaches its failures and repairs
HISTORY_DAYS = 30


@dataclass(frozen=True)
class Outlook:
    """The forecasts of every open order, for one plan."""

    plan: Plan | None = None
    orders: Mapping[str, Forecast] = field(default_factory=dict)
    # what the schedule assessment takes of each (made once here: the event path looks up)
    odds: Mapping[str, OnTimeOdds] = field(default_factory=dict)

    def of(self, order_id: str) -> Forecast | None:
        return self.orders.get(order_id)


@dataclass(frozen=True)
class ForesightPolicy:
    """Samples per forecast (0: off) and the prior of every machine."""

    samples: int = 300
    priors: Priors = Priors()
    queue_cv: float = 0.0  # how much waits for planned starts spread (estimator.forecast)

    def prior(self, machine: str) -> MachineRisk:
        """The machine's prior: the plant file's figures for it, else the settings'."""
        return self.priors.of(machine)


class Foresight:
    """Keeps the current outlook; `refresh(plan)` makes a new one (the planner's thread)."""

    def __init__(self, reads: PlanningSessions, policy: ForesightPolicy) -> None:
        self._reads = reads
        self.policy = policy
        self.current = Outlook()
        # each machine's failures and repairs seen in the last HISTORY_DAYS (at the last refresh)
        self.learned: dict[str, MachineHistory] = {}
        self.last_duration_s = 0.0

    def refresh(self, plan: Plan, now: datetime) -> Outlook:
        """Forecast every open order of `plan`; keeps and returns the outlook."""
        if self.policy.samples <= 0:
            return self.current
        t0 = time.perf_counter()
        with self._reads() as reads:
            due = reads.open_due_dates()
            states = {row.machine_id: row.state for row in reads.machine_rows()}
            since = now - timedelta(days=HISTORY_DAYS)
            self.learned = histories(tuple(r) for r in reads.machine_intervals(since))
        risks = {m: self.risks_of(m, state, now) for m, state in states.items()}
        for op in plan.operations.values():
            if op.machine not in risks:
                risks[op.machine] = self.policy.prior(op.machine)
        # seeded by the plan's time: the same plan gives the same answer
        seed = int(plan.made_at.timestamp())
        orders = forecast(plan, due, risks, now, self.policy.samples, seed, self.policy.queue_cv)
        odds = {order_id: OnTimeOdds(f.p_on_time, f.reason) for order_id, f in orders.items()}
        self.current = Outlook(plan, orders, odds)
        self.last_duration_s = time.perf_counter() - t0
        log.debug("forecast %d orders in %.2fs", len(orders), self.last_duration_s)
        return self.current

    def risks_of(self, machine: str, state: str, now: datetime) -> MachineRisk:
        """A machine's figures: its own prior blended with its recent history (learning.py),
        with a repair still to come when it is stopped."""
        prior = self.policy.prior(machine)
        history = self.learned.get(machine)
        risk = prior if history is None else history.risk(prior, now)
        if state in STOPPED_STATES:
            return replace(risk, down_left_s=risk.mttr_s)
        return risk
