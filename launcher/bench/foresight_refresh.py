"""The foresight bench's timing row: P(on time) of 1,000 open orders after a replan.

A plan made by the tracker's own dispatcher (EDD) for 1,000 orders of 2-6 operations on 20
machines, then `forecast()` over it with the tracker's default sample count: the time a
replan adds before every open order has its fresh P(on time), P50 and P90.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

from launcher.twin.tracker_side import setting_default
from tracker.domain.foresight.estimator import MachineRisk, forecast
from tracker.domain.planning.dispatching_rules import schedule
from tracker.domain.planning.model import PlanJob, PlanMachine, PlanOperation, Rule

# the tracker's default spread of waits, as the live refresh uses it
QUEUE_CV = setting_default("foresight_queue_cv")

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def refresh_seconds(orders: int = 1_000, machines: int = 20, samples: int = 300) -> float:
    """Seconds to forecast every order of a plan of `orders` open orders."""
    rng = random.Random(7)
    names = [f"m{i:02d}" for i in range(machines)]
    jobs = [
        PlanJob(
            order_id=f"SO-{k:05d}",
            due_at=NOW + timedelta(hours=rng.uniform(4, 400)),
            released_at=NOW,
            operations=tuple(
                PlanOperation(10 * (j + 1), (rng.choice(names),), 600.0, rng.uniform(600, 7200))
                for j in range(rng.randint(2, 6))
            ),
        )
        for k in range(orders)
    ]
    plan = schedule(jobs, [PlanMachine(n) for n in names], NOW, Rule.EDD)
    risks = {n: MachineRisk(mtbf_s=rng.uniform(4, 20) * 3600) for n in names}
    due = {job.order_id: job.due_at for job in jobs}
    t0 = time.perf_counter()
    forecast(plan, due, risks, NOW, samples, queue_cv=QUEUE_CV)
    return time.perf_counter() - t0
