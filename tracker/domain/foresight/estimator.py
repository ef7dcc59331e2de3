"""P(on time), P50 and P90 of every open order: the current plan replayed many times with
random breakdowns, repairs and operation times (numpy, one vector of samples per operation).

Each sample walks the plan's operations in planned start order: an operation starts when its
machine is free and the order's previous operation is done (never before its planned start,
so shifts and planned gaps stay), runs its planned time spread by `duration_cv`, and loses
the repairs of the failures that strike while it runs: a Poisson number with mean running
time / MTBF, each repair lognormal with mean MTTR. A machine that is down now is free again
after the rest of its repair. What the plan assumes (no more breakdowns) is the sample with
no failure; delays spread along machines and orders as the plan's order says.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from tracker.domain.planning.model import Plan

HOUR = 3600.0


@dataclass(frozen=True)
class MachineRisk:
    """What is known of a machine: failures, repairs and how operation times spread on it."""

    mtbf_s: float = 8 * HOUR  # mean running time between failures
    mttr_s: float = 1800.0  # mean repair time
    repair_sigma: float = 0.5  # lognormal shape of repairs; 0: every repair takes mttr_s
    duration_cv: float = 0.03  # an operation's time over its plan: standard deviation
    down_left_s: float = 0.0  # down now: mean repair time still to come


@dataclass(frozen=True)
class Forecast:
    """One order's outlook: P(on time), the ETA that half and nine in ten samples meet, and
    the machine that delays it most (None when nothing much does)."""

    order_id: str
    p_on_time: float
    p50: datetime
    p90: datetime
    reason: str | None = None


def forecast(
    plan: Plan,
    due: Mapping[str, datetime],
    risks: Mapping[str, MachineRisk],
    now: datetime,
    samples: int = 400,
    seed: int = 0,
) -> dict[str, Forecast]:
    """The forecast of every order of `due` the plan has operations for."""
    rng = np.random.default_rng(seed)
    default = MachineRisk()
    ops = sorted(plan.operations.values(), key=lambda op: (op.start, op.order_id, op.seq))
    free: dict[str, np.ndarray] = {}
    ready: dict[str, np.ndarray] = {}
    late: dict[str, float] = {}  # each order's mean delay so far, against the plan
    delay: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    down: set[str] = set()
    zero = np.zeros(samples)
    for machine, risk in risks.items():
        if risk.down_left_s > 0:
            down.add(machine)
            free[machine] = _repairs(rng, np.ones(samples), risk.down_left_s, risk.repair_sigma)
    for op in ops:
        risk = risks.get(op.machine, default)
        planned_start = (op.start - now).total_seconds()
        planned_end = (op.end - now).total_seconds()
        before = ready.get(op.order_id, zero)
        start = np.maximum(free.get(op.machine, zero), before)
        if op.machine not in down:
            start = np.maximum(start, planned_start)
        run = (planned_end - planned_start) * np.maximum(
            0.5, 1.0 + risk.duration_cv * rng.standard_normal(samples)
        )
        failures = rng.poisson(np.maximum(run, 0.0) / risk.mtbf_s)
        end = start + run + _repairs(rng, failures, risk.mttr_s, risk.repair_sigma)
        free[op.machine] = end
        ready[op.order_id] = end
        # the delay this operation adds to the order, put down to its machine
        late_now = float(np.mean(end)) - planned_end
        delay[op.order_id][op.machine] += late_now - late.get(op.order_id, 0.0)
        late[op.order_id] = late_now
    out = {}
    for order_id, finish in ready.items():
        if order_id not in due:
            continue
        left = (due[order_id] - now).total_seconds()
        p50, p90 = np.quantile(finish, (0.5, 0.9))
        out[order_id] = Forecast(
            order_id,
            float(np.mean(finish <= left)),
            now + timedelta(seconds=float(p50)),
            now + timedelta(seconds=float(p90)),
            _reason(delay[order_id], risks, default),
        )
    return out


def _repairs(
    rng: np.random.Generator, failures: np.ndarray, mttr_s: float, sigma: float
) -> np.ndarray:
    """The total repair time of `failures` repairs per sample.

    The sum of n lognormal repairs is drawn as a gamma with the same mean and variance (exact
    in its first two moments, and exactly n x MTTR when repairs do not vary).
    """
    if sigma <= 0:
        return failures * mttr_s
    spread = math.expm1(sigma * sigma)  # variance of one repair over mttr^2
    shape = failures / spread
    return rng.gamma(np.maximum(shape, 1e-12), mttr_s * spread) * (failures > 0)


def _reason(
    delays: Mapping[str, float], risks: Mapping[str, MachineRisk], default: MachineRisk
) -> str | None:
    """The machine that adds the most expected delay, said as a supervisor would."""
    if not delays:
        return None
    machine, added = max(delays.items(), key=lambda kv: kv[1])
    if added < 60:
        return None
    risk = risks.get(machine, default)
    if risk.down_left_s > 0:
        return f"{machine} is down and its repair may take {_hours(risk.down_left_s)} more"
    return (
        f"{machine} fails about every {_hours(risk.mtbf_s)} and adds about "
        f"{_hours(added)} to this order"
    )


def _hours(seconds: float) -> str:
    return f"{seconds / HOUR:.1f} h" if seconds >= HOUR else f"{seconds / 60:.0f} min"
