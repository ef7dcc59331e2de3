"""Capable-to-promise: the earliest completion of a hypothetical order against the current plan.

The quote books nothing and moves nothing: each operation of the hypothetical order goes into
the earliest free window of one of its machines (working time of the machine's calendar,
after its previous operation) around the operations already planned. With a due date, against
a plan made by earliest due date, it may go ahead of planned operations that would start once
it is waiting and that the dispatcher would take after it (a later due date, or the same and a
lower priority): what booking it would do. Running operations are never passed. Built once
per plan (`QuoteBook`), a quote then costs a few bisects per operation.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from .calendar import WorkingTime
from .model import Plan, PlanJob, PlanMachine, PlanOperation, Rule


@dataclass(frozen=True)
class QuotedOperation:
    seq: int
    machine: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Quote:
    """The earliest completion of the hypothetical order, and where each operation would run."""

    completion: datetime
    operations: tuple[QuotedOperation, ...]


class QuoteError(ValueError):
    """The hypothetical order cannot be planned (an operation names no machine)."""


# what decides which of two operations a dispatcher by earliest due date takes first: the due
# date, then the higher priority; None for an operation already running (nothing passes it)
Key = tuple[float, int] | None


class _Line:
    """One machine's planned operations (start, end, key), sorted, for gap search."""

    def __init__(self, machine: PlanMachine, booked: list[tuple[float, float, Key]], t0: float):
        self.machine_id = machine.machine_id
        self.time = WorkingTime(machine.calendar)
        available = machine.available_at.timestamp() if machine.available_at else t0
        self.available = max(t0, available)
        booked.sort(key=lambda b: (b[0], b[1]))
        self.starts = [b[0] for b in booked]
        self.booked = booked

    def earliest(self, ready: float, work_s: float, key: Key) -> tuple[float, float]:
        """(start, end) of the first window from `ready` where `work_s` of work fits.

        With a `key`, planned operations that would only start once this one is waiting and
        that the dispatcher would take after it (a later due date, or the same and a lower
        priority) do not block it: it goes ahead of them, as it would once booked.
        """
        start = self.time.next(max(ready, self.available))
        # a booked operation that started before `start` may still be running: look back one
        i = max(bisect_right(self.starts, start) - 1, 0)
        while True:
            end = self.time.add(start, work_s)
            clash = None
            while i < len(self.booked):
                b_start, b_end, b_key = self.booked[i]
                passes = key is not None and b_key is not None and b_start >= ready and key < b_key
                if b_end <= start or passes:
                    i += 1
                    continue
                if b_start < end:
                    clash = b_end
                break
            if clash is None:
                return start, end
            start = self.time.next(clash)


class QuoteBook:
    """The current plan's machine timelines, ready for quotes."""

    def __init__(
        self,
        plan: Plan,
        machines: Sequence[PlanMachine],
        jobs: Sequence[PlanJob],
        now: datetime,
    ) -> None:
        t0 = now.timestamp()
        keys: dict[tuple[str, int], Key] = {}
        for job in jobs:
            for op in job.operations:
                running = op.running_on is not None
                keys[(job.order_id, op.seq)] = (
                    None if running else (job.due_at.timestamp(), -job.priority)
                )
        booked: dict[str, list[tuple[float, float, Key]]] = {m.machine_id: [] for m in machines}
        for planned in plan.operations.values():
            if planned.machine in booked:
                booked[planned.machine].append(
                    (
                        planned.start.timestamp(),
                        planned.end.timestamp(),
                        keys.get((planned.order_id, planned.seq)),
                    )
                )
        self._lines = {m.machine_id: _Line(m, booked[m.machine_id], t0) for m in machines}
        self.plan = plan
        # only a dispatcher by due date is predictable enough to quote ahead of booked orders
        self._passes = plan.rule is Rule.EDD
        self.now = now
        self._lock = threading.Lock()  # the timelines' calendars extend lazily

    def quote(
        self,
        operations: Sequence[PlanOperation],
        priority: int = 0,
        now: datetime | None = None,
        due_at: datetime | None = None,
    ) -> Quote:
        """Where and when each operation would run, in routing order, from `now` (or the plan's
        own time, if later). With a due date (and the plan made by earliest due date), the
        quote goes ahead of planned operations the dispatcher would put after it."""
        start = self.now if now is None or now < self.now else now
        key: Key = None
        if due_at is not None and self._passes:
            key = (due_at.timestamp(), -priority)
        with self._lock:
            return self._quote(operations, key, start.timestamp())

    def _quote(self, operations: Sequence[PlanOperation], key: Key, ready: float) -> Quote:
        quoted = []
        for op in operations:
            if not op.machines:
                raise QuoteError(f"operation {op.seq} names no machine")
            for name in op.machines:
                if name not in self._lines:  # planned as a machine of its own, as orders are
                    self._lines[name] = _Line(PlanMachine(name), [], self.now.timestamp())
            lines = [self._lines[m] for m in op.machines]
            best = min(
                ((line.earliest(ready, op.work_s, key), line.machine_id) for line in lines),
                key=lambda found: (found[0][1], found[1]),
            )
            (start, end), machine = best
            quoted.append(QuotedOperation(op.seq, machine, _utc(start), _utc(end)))
            ready = end
        return Quote(_utc(ready), tuple(quoted))


def _utc(x: float) -> datetime:
    return datetime.fromtimestamp(x, UTC)
