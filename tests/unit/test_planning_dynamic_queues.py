"""CR and ATC queues hand out exactly what evaluating the rule over every waiting op would."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.domain.planning.calendar import WorkingTime
from tracker.domain.planning.dynamic_queues import ApparentTardinessQueue, CriticalRatioQueue
from tracker.domain.planning.model import ALWAYS, PlanJob, PlanOperation
from tracker.domain.planning.queues import Ops, machine_groups

NOW = datetime(2024, 3, 4, tzinfo=UTC)
K = 2.0
MINUTES = st.integers(min_value=0, max_value=600)  # whole minutes: sums stay exact in floats

# per order: due (minutes from now, may be past), work of its first operation, work after it,
# priority, and whether the first operation may also go on the second machine
ORDERS = st.lists(
    st.tuples(st.integers(-600, 1200), MINUTES, st.one_of(st.none(), MINUTES), st.integers(-1, 2)),
    min_size=1,
    max_size=40,
)


def build(orders: list[tuple[int, int, int | None, int]], shared: list[bool]) -> Ops:
    ops = Ops([WorkingTime(ALWAYS), WorkingTime(ALWAYS)])
    for k, (due, first, rest, priority) in enumerate(orders):
        machines = ("m", "n") if shared[k] else ("m",)
        steps = [PlanOperation(10, machines, 0.0, first * 60.0)]
        if rest is not None:
            steps.append(PlanOperation(20, ("m",), 0.0, rest * 60.0))
        job = PlanJob(f"o{k:02d}", NOW + timedelta(minutes=due), NOW, tuple(steps), priority)
        ops.add_job(job, {"m": 0, "n": 1})
    ops.rank_ties()
    return ops


def critical_ratio(ops: Ops, i: int, t: float, waiting: list[int]) -> tuple[float, int]:
    rem = ops.rem[i]
    return ((ops.due[i] - t) / rem if rem > 0 else -math.inf, ops.tie[i])


def apparent_tardiness(ops: Ops, i: int, t: float, waiting: list[int]) -> tuple[float, int]:
    mean = sum(ops.work[w] for w in waiting) / len(waiting)
    p, weight = ops.work[i], max(1.0 + ops.job[i].priority, 0.01)
    if p == 0:
        return (-math.inf, ops.tie[i])
    slack = ops.due[i] - ops.rem[i] - t
    urgency = 1.0 if slack <= 0 else (math.exp(-slack / (K * mean)) if mean > 0 else 0.0)
    return (-weight / p * urgency, ops.tie[i])


@settings(max_examples=300, deadline=None)
@given(ORDERS, st.data())
def test_queues_take_the_operation_the_rule_ranks_first(
    orders: list[tuple[int, int, int | None, int]], data: st.DataObject
) -> None:
    shared = data.draw(st.lists(st.booleans(), min_size=len(orders), max_size=len(orders)))
    ops = build(orders, shared)
    firsts = [i for i in range(len(ops.job)) if ops.seq[i] == 10]
    groups = machine_groups(ops, 2)
    for queue, rule in (
        (CriticalRatioQueue(ops, groups), critical_ratio),
        (ApparentTardinessQueue(ops, groups, K), apparent_tardiness),
    ):
        for i in firsts:
            queue.add(i)
        waiting = list(firsts)
        t = NOW.timestamp()
        while waiting:
            t += data.draw(st.integers(0, 300)) * 60.0  # decisions only move forward in time
            machine = data.draw(st.sampled_from([0, 1]))
            # the operations waiting for this machine (the second one serves shared ones only)
            eligible = [i for i in waiting if machine in ops.group_machines[ops.group[i]]]
            taken = queue.take(machine, t)
            if not eligible:
                assert taken == -1
                continue
            assert taken == min(eligible, key=lambda i: rule(ops, i, t, eligible))
            waiting.remove(taken)
