"""The scheduler's operations as flat arrays, and the queue for the static dispatching rules.

Static rules (RELEASE, EDD, SPT) rank every operation once and keep a heap per work center;
the time-dependent ones (CR, ATC) are in `dynamic_queues`.
"""

from __future__ import annotations

import heapq
from typing import Protocol

from tracker.domain.planning.calendar import WorkingTime
from tracker.domain.planning.model import PlanJob


class Ops:
    """Operations to plan, indexed by number: flat lists keep the hot loop cheap."""

    def __init__(self, lines: list[WorkingTime]) -> None:
        self.lines = lines
        self.job: list[PlanJob] = []
        self.seq: list[int] = []
        self.work: list[float] = []
        self.rem: list[float] = []  # work left in the job from this operation on
        self.due: list[float] = []
        self.released: list[float] = []
        self.next: list[int] = []  # the job's next operation, -1 after the last
        self.group: list[int] = []  # work center (set of candidate machines), -1 when pinned
        self.pinned: list[int] = []  # the machine it is running on, else -1
        self.on: list[int] = []  # the machine it is planned on
        self.tie: list[int] = []  # rank by priority (high first), order id, seq
        self.group_machines: list[tuple[int, ...]] = []
        self.group_same_calendar: list[bool] = []
        self._groups: dict[tuple[int, ...], int] = {}
        self._named: dict[tuple[str, ...], int] = {}  # most routings repeat a few work centers

    def add_job(self, job: PlanJob, index: dict[str, int]) -> int:
        """Add a plannable job's operations; returns the number of its first operation."""
        first = len(self.job)
        due, released = job.due_at.timestamp(), job.released_at.timestamp()
        rem = sum(op.work_s for op in job.operations)
        for k, op in enumerate(job.operations):
            self.job.append(job)
            self.seq.append(op.seq)
            self.work.append(op.work_s)
            self.rem.append(rem)
            rem -= op.work_s
            self.due.append(due)
            self.released.append(released)
            self.next.append(first + k + 1 if k + 1 < len(job.operations) else -1)
            self.on.append(-1)
            if op.running_on is not None:
                self.pinned.append(index[op.running_on])
                self.group.append(-1)
            else:
                self.pinned.append(-1)
                self.group.append(self._group(op.machines, index))
        return first

    def candidates(self, i: int) -> tuple[int, ...]:
        """The machines operation i may go on."""
        return (self.pinned[i],) if self.pinned[i] >= 0 else self.group_machines[self.group[i]]

    def rank_ties(self) -> None:
        """Fill `tie`: the deterministic order among otherwise equal operations."""
        order = sorted(
            range(len(self.job)),
            key=lambda i: (-self.job[i].priority, self.job[i].order_id, self.seq[i]),
        )
        self.tie = [0] * len(order)
        for r, i in enumerate(order):
            self.tie[i] = r

    def _group(self, names: tuple[str, ...], index: dict[str, int]) -> int:
        g = self._named.get(names)
        if g is not None:
            return g
        key = tuple(sorted({index[n] for n in names if n in index}))
        g = self._groups.get(key)
        if g is None:
            g = self._groups[key] = len(self.group_machines)
            self.group_machines.append(key)
            self.group_same_calendar.append(all(self.lines[k] is self.lines[key[0]] for k in key))
        self._named[names] = g
        return g


class Queue(Protocol):
    """Operations waiting for machines, handed out by a dispatching rule."""

    def add(self, i: int) -> None:
        """Operation i is ready and waits for a machine of its work center."""

    def take(self, m: int, t: float) -> int:
        """Remove and return the operation machine m takes at time t, or -1 if none waits."""


class StaticQueue:
    """Waiting operations in a heap per work center, by a rank fixed before planning starts."""

    def __init__(self, ops: Ops, machine_groups: list[list[int]], key: list[float]) -> None:
        self._rank, self._op_of = rank(key, ops.tie)
        self._group = ops.group
        self._heaps: list[list[int]] = [[] for _ in ops.group_machines]
        self._machine_heaps = [[self._heaps[g] for g in gs] for gs in machine_groups]

    def add(self, i: int) -> None:
        """Operation i is ready and waits for a machine of its work center."""
        heapq.heappush(self._heaps[self._group[i]], self._rank[i])

    def take(self, m: int, t: float) -> int:
        """Remove and return the operation machine m takes at time t, or -1 if none waits."""
        best: list[int] | None = None
        for heap in self._machine_heaps[m]:
            if heap and (best is None or heap[0] < best[0]):
                best = heap
        return -1 if best is None else self._op_of[heapq.heappop(best)]


def rank(key: list[float], tie: list[int]) -> tuple[list[int], list[int]]:
    """Each operation's rank by (key, tie), and the operation at each rank."""
    op_of = sorted(range(len(key)), key=lambda i: (key[i], tie[i]))
    ranks = [0] * len(op_of)
    for r, i in enumerate(op_of):
        ranks[i] = r
    return ranks, op_of


def machine_groups(ops: Ops, n_machines: int) -> list[list[int]]:
    """The work centers each machine serves."""
    groups: list[list[int]] = [[] for _ in range(n_machines)]
    for g, members in enumerate(ops.group_machines):
        for m in members:
            groups[m].append(g)
    return groups
