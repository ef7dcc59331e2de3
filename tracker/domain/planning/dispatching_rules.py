"""Finite-capacity forward scheduling: non-delay list scheduling (Giffler-Thompson style).

Time runs forward through events (an operation becomes ready, a machine can start). Whenever a
machine can start, it takes the waiting operation its dispatching rule puts first; several
machines able to start at once (a work center) take operations in machine order, and an
operation goes to the one of them where it finishes earliest. An operation pinned by
`running_on` goes first on its machine. Setup and run consume only working time of the
machine's calendar and pause outside it. Times are POSIX seconds inside, UTC datetimes out.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from datetime import UTC, datetime

from tracker.domain.planning.calendar import WorkingTime
from tracker.domain.planning.dynamic_queues import ApparentTardinessQueue, CriticalRatioQueue
from tracker.domain.planning.model import (
    Calendar,
    Plan,
    PlanJob,
    PlanMachine,
    PlannedOperation,
    Rule,
)
from tracker.domain.planning.queues import Ops, Queue, StaticQueue, machine_groups


def schedule(
    jobs: Sequence[PlanJob],
    machines: Sequence[PlanMachine],
    now: datetime,
    rule: Rule = Rule.EDD,
    atc_k: float = 2.0,
) -> Plan:
    """Plan every remaining operation of `jobs` on `machines` forward from `now` by `rule`."""
    t0 = _seconds(now, "now")
    if not atc_k > 0:
        raise ValueError(f"atc_k must be positive, got {atc_k}")
    index = {m.machine_id: k for k, m in enumerate(machines)}
    if len(index) != len(machines):
        raise ValueError("a machine id appears twice among the machines")
    timelines: dict[Calendar, WorkingTime] = {}
    lines = [timelines.setdefault(m.calendar, WorkingTime(m.calendar)) for m in machines]
    ops = Ops(lines)
    unplanned: dict[str, str] = {}
    first: list[tuple[float, int]] = []  # (ready, op) of each job's first operation
    no_ops: list[PlanJob] = []
    seen: set[str] = set()
    for job in jobs:
        if job.order_id in seen:
            raise ValueError(f"order {job.order_id!r} appears twice among the jobs")
        seen.add(job.order_id)
        reason = _unplannable(job, index)
        if reason:
            unplanned[job.order_id] = reason
        elif not job.operations:
            no_ops.append(job)
        else:
            i = ops.add_job(job, index)
            ready = t0 if job.operations[0].running_on else max(t0, _seconds(job.released_at, ""))
            first.append((ready, i))
    ends = _run(ops, lines, machines, t0, first, rule, atc_k)
    for i in range(len(ends)):
        if ops.on[i] < 0:  # only machines whose calendars never work could take it
            names = ", ".join(
                f"{machines[k].machine_id!r} (calendar {machines[k].calendar.name!r})"
                for k in ops.candidates(i)
            )
            unplanned.setdefault(
                ops.job[i].order_id, f"operation {ops.seq[i]}: no working time on {names}"
            )
    planned: dict[tuple[str, int], PlannedOperation] = {}
    etas: dict[str, datetime] = {}
    to_dt = datetime.fromtimestamp
    for i, (start, end) in enumerate(ends):
        job = ops.job[i]
        if job.order_id in unplanned:
            continue
        seq, finish = ops.seq[i], to_dt(end, UTC)
        planned[job.order_id, seq] = PlannedOperation(
            job.order_id, seq, machines[ops.on[i]].machine_id, to_dt(start, UTC), finish
        )
        if ops.next[i] < 0:
            etas[job.order_id] = finish
    for job in no_ops:  # nothing left to do: done as soon as it is released
        etas[job.order_id] = to_dt(max(t0, _seconds(job.released_at, "released_at")), UTC)
    return Plan(made_at=now, rule=rule, operations=planned, etas=etas, unplanned=unplanned)


# size: the scheduler's event loop, run once per operation of every replan; its names are bound
# to locals once, and split into calls per event it runs measurably slower (`shopfloor bench`)
def _run(
    ops: Ops,
    lines: list[WorkingTime],
    machines: Sequence[PlanMachine],
    t0: float,
    first: list[tuple[float, int]],
    rule: Rule,
    atc_k: float,
) -> list[tuple[float, float]]:
    """The event loop: (start, end) of every operation, in operation index order."""
    n_machines = len(machines)
    ops.rank_ties()
    queue = _queue(ops, n_machines, rule, atc_k)
    pinned: list[list[tuple[int, int]]] = [[] for _ in range(n_machines)]  # (tie rank, op)
    times = [(0.0, 0.0)] * len(ops.job)
    # events: (time, 0, op) an operation becomes ready; (time, 1, machine) a machine can start
    events: list[tuple[float, int, int]] = [(r, 0, i) for r, i in first]
    idle = [False] * n_machines
    for k, machine in enumerate(machines):
        up = machine.available_at
        since = t0 if up is None else max(t0, _seconds(up, f"{machine.machine_id} available_at"))
        try:
            events.append((lines[k].next(since), 1, k))
        except ValueError:
            pass  # its calendar never works: it never becomes free, and is never woken

    heapq.heapify(events)
    group_machines, group_same, op_group, op_pin = (
        ops.group_machines,
        ops.group_same_calendar,
        ops.group,
        ops.pinned,
    )
    work, nxt, on, tie = ops.work, ops.next, ops.on, ops.tie
    pop, push = heapq.heappop, heapq.heappush
    while events:
        t = events[0][0]
        free: list[int] = []  # machines that can start at t
        while events and events[0][0] == t:
            _, kind, k = pop(events)
            if kind == 1:
                free.append(k)
                continue
            pin = op_pin[k]
            if pin >= 0:
                push(pinned[pin], (tie[k], k))
                wake: Sequence[int] = (pin,)
            else:
                queue.add(k)
                wake = group_machines[op_group[k]]
            for m in wake:
                if idle[m]:
                    idle[m] = False
                    push(events, (lines[m].next(t), 1, m))
        if not free:
            continue
        free.sort()
        able = set(free)
        for m in free:
            while m in able:
                if pinned[m]:
                    i = pop(pinned[m])[1]
                    dest = m
                else:
                    i = queue.take(m, t)
                    if i < 0:
                        able.discard(m)
                        idle[m] = True
                        break
                    g = op_group[i]
                    if group_same[g]:
                        dest = m
                    else:
                        # a free machine with a running operation waiting keeps itself for it
                        others = {x for x in able if not pinned[x]}
                        dest = _earliest_finish(i, t, m, g, ops, lines, others)
                end = lines[dest].add(t, work[i])
                times[i] = (t, end)
                on[i] = dest
                able.discard(dest)
                push(events, (lines[dest].next(end), 1, dest))
                if nxt[i] >= 0:
                    push(events, (end, 0, nxt[i]))
    return times


def _queue(ops: Ops, n_machines: int, rule: Rule, atc_k: float) -> Queue:
    """The waiting-operation queue that applies `rule`."""
    groups = machine_groups(ops, n_machines)
    if rule is Rule.CR:
        return CriticalRatioQueue(ops, groups)
    if rule is Rule.ATC:
        return ApparentTardinessQueue(ops, groups, atc_k)
    key = {Rule.RELEASE: ops.released, Rule.EDD: ops.due, Rule.SPT: ops.work}[rule]
    return StaticQueue(ops, groups, key)


def _earliest_finish(
    i: int, t: float, m: int, g: int, ops: Ops, lines: list[WorkingTime], able: set[int]
) -> int:
    """Of the machines able to start at t that can take operation i, the one finishing first."""
    best, best_end = m, lines[m].add(t, ops.work[i])
    for k in ops.group_machines[g]:
        if k in able and k != m:
            end = lines[k].add(t, ops.work[i])
            if end < best_end or (end == best_end and k < best):
                best, best_end = k, end
    return best


def _unplannable(job: PlanJob, index: dict[str, int]) -> str:
    """Why a job cannot be planned (an operation with no machine in the plant), or ''."""
    reasons: list[str] = []
    seqs: set[int] = set()
    for op in job.operations:
        if op.seq in seqs:
            raise ValueError(f"order {job.order_id!r} has operation {op.seq} twice")
        seqs.add(op.seq)
        if not op.work_s >= 0:
            raise ValueError(f"order {job.order_id!r} operation {op.seq}: negative work time")
        if op.running_on is not None:
            if op.running_on not in index:
                where = repr(op.running_on)
                reasons.append(f"operation {op.seq}: running on {where}, not in the plant")
        elif not op.machines:
            reasons.append(f"operation {op.seq}: no machine given")
        elif not any(name in index for name in op.machines):
            names = ", ".join(repr(name) for name in op.machines)
            reasons.append(f"operation {op.seq}: no machine {names} in the plant")
    for name, when in (("due_at", job.due_at), ("released_at", job.released_at)):
        _seconds(when, f"order {job.order_id!r} {name}")
    return "; ".join(reasons)


def _seconds(t: datetime, name: str) -> float:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {t!r}")
    return t.timestamp()
