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

from tracker.domain.planning.model import Plan, PlannedOperation

HOUR = 3600.0
# the lognormal shape whose variance over mean^2 is 1, as an exponential's: work of arrivals
_EXPONENTIAL = np.array(math.sqrt(math.log(2.0)))


@dataclass(frozen=True)
class MachineRisk:
    """What is known of a machine: failures, repairs and how operation times spread on it."""

    mtbf_s: float = 8 * HOUR  # mean running time between failures
    mttr_s: float = 1800.0  # mean repair time
    repair_sigma: float = 0.5  # lognormal shape of repairs; 0: every repair takes mttr_s
    duration_cv: float = 0.03  # an operation's time over its plan: standard deviation
    down_left_s: float = 0.0  # down now: mean repair time still to come
    # orders still to come: operations a second routed here, their mean work, and the lead
    # time they are due in (one due before this order's due date goes ahead of it, as EDD does)
    arrivals_per_s: float = 0.0
    arrival_work_s: float = 0.0
    arrival_lead_s: float = 0.0


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
    queue_cv: float = 0.0,
) -> dict[str, Forecast]:
    """The forecast of every order of `due` the plan has operations for; `queue_cv` spreads
    each order's waits for its planned starts, as the plan moves when orders jump the queue."""
    rng = np.random.default_rng(seed)
    default = MachineRisk()
    ops = sorted(plan.operations.values(), key=lambda op: (op.start, op.order_id, op.seq))
    if not ops:
        return {}
    of = [risks.get(op.machine, default) for op in ops]
    starts = np.array([(op.start - now).total_seconds() for op in ops])
    ends = np.array([(op.end - now).total_seconds() for op in ops])
    # every operation's time and repairs at once; only the start times chain
    spread = np.maximum(
        0.5, 1.0 + _column(of, "duration_cv") * rng.standard_normal((len(ops), samples))
    )
    run = np.maximum(ends - starts, 0.0)[:, None] * spread
    failures = rng.poisson(run / _column(of, "mtbf_s"))
    took = run + _repairs(rng, failures, _column(of, "mttr_s"), _column(of, "repair_sigma"))
    free: dict[str, np.ndarray] = {}
    down: set[str] = set()
    for machine, risk in risks.items():
        if risk.down_left_s > 0:
            down.add(machine)
            left = _repairs(
                rng,
                np.ones((1, samples)),
                np.array([[risk.down_left_s]]),
                np.array([[risk.repair_sigma]]),
            )
            free[machine] = left[0]
    zero = np.zeros(samples)
    waits = _waits(rng, ops, samples, queue_cv)
    ready: dict[str, np.ndarray] = {}
    seen: dict[str, np.ndarray] = {}  # up to when each machine's arrivals were drawn
    due_s = {order_id: (at - now).total_seconds() for order_id, at in due.items()}
    finished = np.empty((len(ops), samples))
    for i, op in enumerate(ops):
        start = np.maximum(free.get(op.machine, zero), ready.get(op.order_id, zero))
        if op.machine not in down:
            wait = waits.get(op.order_id, 1.0) if starts[i] > 0 else 1.0
            start = np.maximum(start, starts[i] * wait)
        risk = of[i]
        if risk.arrivals_per_s > 0 and op.order_id in due_s:
            # orders released before this one starts, due before it: they go first
            until = np.minimum(start, due_s[op.order_id] - risk.arrival_lead_s)
            since = seen.get(op.machine, zero)
            jumps = rng.poisson(risk.arrivals_per_s * np.maximum(until - since, 0.0))
            seen[op.machine] = np.maximum(since, until)
            start = start + _repairs(rng, jumps, np.array(risk.arrival_work_s), _EXPONENTIAL)
        finished[i] = start + took[i]
        free[op.machine] = ready[op.order_id] = finished[i]
    return _forecasts(ops, finished.mean(axis=1) - ends, ready, due, risks, now)


def _waits(
    rng: np.random.Generator, ops: list[PlannedOperation], samples: int, queue_cv: float
) -> dict[str, np.ndarray]:
    """Per order, the factor on its waits for planned starts in each sample: a lognormal of mean
    1 and coefficient of variation `queue_cv`, never below 1 (a machine down or a queue ahead
    is firm: work starts no sooner than planned); none when `queue_cv` is 0."""
    if queue_cv <= 0:
        return {}
    sigma = math.sqrt(math.log1p(queue_cv * queue_cv))
    return {
        order_id: np.maximum(1.0, np.exp(sigma * rng.standard_normal(samples) - sigma * sigma / 2))
        for order_id in sorted({op.order_id for op in ops})
    }


def _column(risks: list[MachineRisk], name: str) -> np.ndarray:
    """One figure of each operation's machine, as a column against the samples."""
    return np.array([getattr(r, name) for r in risks], dtype=float)[:, None]


def _forecasts(
    ops: list[PlannedOperation],
    late: np.ndarray,
    ready: Mapping[str, np.ndarray],
    due: Mapping[str, datetime],
    risks: Mapping[str, MachineRisk],
    now: datetime,
) -> dict[str, Forecast]:
    """Each order's P(on time), P50, P90 and the machine that delays it most.

    The delay an operation adds to its order (its mean delay past its planned end, less the
    order's before it) is put down to the operation's machine.
    """
    added: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    so_far: dict[str, float] = {}
    for op, delay in zip(ops, late.tolist(), strict=True):
        added[op.order_id][op.machine] += delay - so_far.get(op.order_id, 0.0)
        so_far[op.order_id] = delay
    ids = [order_id for order_id in ready if order_id in due]
    if not ids:
        return {}
    finish = np.stack([ready[order_id] for order_id in ids])
    left = np.array([(due[order_id] - now).total_seconds() for order_id in ids])
    on_time = (finish <= left[:, None]).mean(axis=1).tolist()
    p50, p90 = np.quantile(finish, (0.5, 0.9), axis=1).tolist()
    return {
        order_id: Forecast(
            order_id,
            on_time[k],
            now + timedelta(seconds=p50[k]),
            now + timedelta(seconds=p90[k]),
            _reason(added[order_id], risks),
        )
        for k, order_id in enumerate(ids)
    }


def _repairs(
    rng: np.random.Generator, failures: np.ndarray, mttr_s: np.ndarray, sigma: np.ndarray
) -> np.ndarray:
    """The total repair time of `failures` repairs per sample.

    The sum of n lognormal repairs is drawn as a gamma with the same mean and variance (exact
    in its first two moments, and exactly n x MTTR when repairs do not vary).
    """
    spread = np.broadcast_to(np.expm1(sigma * sigma), failures.shape)  # var of one / mttr^2
    scale = np.broadcast_to(mttr_s, failures.shape)
    out: np.ndarray = failures * scale
    # only samples with a failure and repairs that vary need a draw (most have none)
    drawn = (failures > 0) & (spread > 0)
    n, var, mean = failures[drawn], spread[drawn], scale[drawn]
    out[drawn] = rng.gamma(n / var, mean * var)
    return out


def _reason(delays: Mapping[str, float], risks: Mapping[str, MachineRisk]) -> str | None:
    """The machine that adds the most expected delay, said as a supervisor would."""
    if not delays:
        return None
    machine, added = max(delays.items(), key=lambda kv: kv[1])
    if added < 60:
        return None
    risk = risks.get(machine, MachineRisk())
    if risk.down_left_s > 0:
        return f"{machine} is down and its repair may take {_hours(risk.down_left_s)} more"
    return (
        f"{machine} fails about every {_hours(risk.mtbf_s)} and adds about "
        f"{_hours(added)} to this order"
    )


def _hours(seconds: float) -> str:
    return f"{seconds / HOUR:.1f} h" if seconds >= HOUR else f"{seconds / 60:.0f} min"
