"""Queues for the time-dependent rules (CR, ATC): the best waiting operation without a full scan.

Each work center keeps its waiting operations sorted in two static orders that bound the
rule's value, and a free machine walks both in step (Fagin's threshold algorithm), stopping as
soon as nothing not yet seen can beat the best seen. That is exact, but it looks at most
`DEPTH` deep: past that (many near-equal values) the best seen is taken. ATC also moves
operations whose slack has run out into a heap by weight over processing time, the exact
order among them, so an overloaded shop does not send the walk deep.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, insort

from tracker.domain.planning.queues import Ops, rank

DEPTH = 128

Key = tuple[float, int]  # (rule value, tie rank): the smallest wins
Best = tuple[int, Key]  # an operation and its key; -1 while none was seen
NONE: Best = (-1, (math.inf, 0))


class _Sorted:
    """Waiting operations of each work center as two lists of ranks, one per static order."""

    def __init__(self, ops: Ops, machine_groups: list[list[int]], keys: list[list[float]]) -> None:
        self._ops = ops
        self._machine_groups = machine_groups
        (self._rank_a, self._by_a), (self._rank_b, self._by_b) = (rank(k, ops.tie) for k in keys)
        n = len(ops.group_machines)
        self._a: list[list[int]] = [[] for _ in range(n)]
        self._b: list[list[int]] = [[] for _ in range(n)]
        self._count = [0] * n
        self._work = [0.0] * n

    def add(self, i: int) -> None:
        """Operation i is ready and waits for a machine of its work center."""
        g = self._ops.group[i]
        insort(self._a[g], self._rank_a[i])
        insort(self._b[g], self._rank_b[i])
        self._count[g] += 1
        self._work[g] += self._ops.work[i]

    def _mean_work(self, groups: list[int]) -> float:
        count = sum(self._count[g] for g in groups)
        return max(sum(self._work[g] for g in groups), 0.0) / count if count else -1.0

    def _unlist(self, i: int) -> None:
        g = self._ops.group[i]
        del self._a[g][bisect_left(self._a[g], self._rank_a[i])]
        del self._b[g][bisect_left(self._b[g], self._rank_b[i])]

    def _taken(self, i: int) -> int:
        g = self._ops.group[i]
        self._count[g] -= 1
        # the running sum would drift; an empty queue restarts it at zero
        self._work[g] = self._work[g] - self._ops.work[i] if self._count[g] else 0.0
        return i


# remaining work is floored here in the ratio: a vanishing amount (5e-324 s) would overflow it
# to infinity, and an operation with an infinite key is never taken
_MIN_WORK_S = 1e-6


class CriticalRatioQueue(_Sorted):
    """Smallest (due - t) / remaining work of the job; orders: due date, remaining work.

    A late operation beats any other; among late ones the ratio grows with due date and
    remaining work, among the others it grows with due date and falls with remaining work.
    """

    def __init__(self, ops: Ops, machine_groups: list[list[int]]) -> None:
        super().__init__(ops, machine_groups, [ops.due, ops.rem])

    def take(self, m: int, t: float) -> int:
        """Remove and return the operation machine m takes at time t, or -1 if none waits."""
        groups = self._machine_groups[m]
        if self._mean_work(groups) < 0:
            return -1
        best = NONE
        for g in groups:
            if self._count[g]:
                best = self._search(self._a[g], self._b[g], t, best)
        self._unlist(best[0])
        return self._taken(best[0])

    def _search(self, by_due: list[int], by_rem: list[int], t: float, best: Best) -> Best:
        due, rem, tie = self._ops.due, self._ops.rem, self._ops.tie
        op_due, op_rem = self._by_a, self._by_b
        n = len(by_due)
        if rem[op_rem[by_rem[0]]] <= 0:
            # nothing left to do in the job: ratio -inf, the first by tie rank wins
            i = op_rem[by_rem[0]]
            return (i, (-math.inf, tie[i])) if (-math.inf, tie[i]) < best[1] else best
        late = due[op_due[by_due[0]]] < t
        for d in range(min(n, DEPTH)):
            x = op_due[by_due[d]]
            if late and due[x] >= t:
                break  # every late operation has been seen
            y = op_rem[by_rem[d] if late else by_rem[n - 1 - d]]
            for i in (x, y):
                key = ((due[i] - t) / max(rem[i], _MIN_WORK_S), tie[i])
                if key < best[1]:
                    best = (i, key)
            if d + 1 < n:
                w = op_rem[by_rem[d + 1] if late else by_rem[n - 2 - d]]
                if best[1][0] < (due[op_due[by_due[d + 1]]] - t) / max(rem[w], _MIN_WORK_S):
                    break
        return best


class ApparentTardinessQueue(_Sorted):
    """Largest (w / p) * exp(-max(0, slack) / (k * mean p)): apparent tardiness cost.

    w = 1 + priority, p the operation's work, slack = due - t - the job's remaining work (this
    operation included), mean p over the operations waiting for the machine. Orders: latest
    start (due - remaining work) and w / p; the index grows with w / p and falls with slack.
    """

    def __init__(self, ops: Ops, machine_groups: list[list[int]], k: float) -> None:
        weights = [max(1.0 + job.priority, 0.01) for job in ops.job]  # must stay positive
        self._ratio = [w / p if p > 0 else math.inf for p, w in zip(ops.work, weights, strict=True)]
        self._latest = [d - r for d, r in zip(ops.due, ops.rem, strict=True)]
        super().__init__(ops, machine_groups, [self._latest, [-a for a in self._ratio]])
        self._k = k
        # per work center, the ratio ranks of the operations out of slack (urgency 1)
        self._critical: list[list[int]] = [[] for _ in ops.group_machines]
        self._is_critical = [False] * len(ops.job)

    def take(self, m: int, t: float) -> int:
        """Remove and return the operation machine m takes at time t, or -1 if none waits."""
        groups = self._machine_groups[m]
        mean = self._mean_work(groups)
        if mean < 0:
            return -1
        best = NONE
        for g in groups:
            self._promote(g, t)
            heap = self._critical[g]
            if heap:
                i = self._by_b[heap[0]]
                key = (-self._ratio[i], self._ops.tie[i])
                if key < best[1]:
                    best = (i, key)
        for g in groups:
            if self._a[g]:
                best = self._search(self._a[g], self._b[g], t, self._k * mean, best)
        i = best[0]
        if self._is_critical[i]:
            heapq.heappop(self._critical[self._ops.group[i]])  # it was the top of its heap
        else:
            self._unlist(i)
        return self._taken(i)

    def _promote(self, g: int, t: float) -> None:
        # an operation's slack only shrinks: once out of slack it stays out
        by_slack, op_of = self._a[g], self._by_a
        n = 0
        while n < len(by_slack) and self._latest[op_of[by_slack[n]]] <= t:
            i = op_of[by_slack[n]]
            self._is_critical[i] = True
            heapq.heappush(self._critical[g], self._rank_b[i])
            by_ratio = self._b[g]
            del by_ratio[bisect_left(by_ratio, self._rank_b[i])]
            n += 1
        del by_slack[:n]

    def _search(
        self, by_slack: list[int], by_ratio: list[int], t: float, scale: float, best: Best
    ) -> Best:
        latest, ratio, tie = self._latest, self._ratio, self._ops.tie
        op_slack, op_ratio = self._by_a, self._by_b

        def urgency(slack: float) -> float:
            return math.exp(-slack / scale) if scale > 0 else 0.0

        n = len(by_slack)
        for d in range(min(n, DEPTH)):
            for i in (op_slack[by_slack[d]], op_ratio[by_ratio[d]]):
                # the queue takes the smallest key: the index negated
                a = ratio[i]
                value = -math.inf if a == math.inf else -a * urgency(latest[i] - t)
                if (value, tie[i]) < best[1]:
                    best = (i, (value, tie[i]))
            if d + 1 < n:
                a = ratio[op_ratio[by_ratio[d + 1]]]
                if a == math.inf:
                    break  # a zero-length operation was seen first, by tie rank
                if best[1][0] < -a * urgency(latest[op_slack[by_slack[d + 1]]] - t):
                    break
        return best
