"""Capable-to-promise: the earliest completion of a hypothetical order against the current plan.

The quote books nothing and moves nothing: each operation of the hypothetical order goes into
the earliest free window of one of its machines (working time of the machine's calendar,
after its previous operation) around the operations already planned. A quote with a priority
may pass planned operations of orders with a lower priority, as the dispatcher would put it
ahead of them. Built once per plan (`QuoteBook`), a quote then costs a few bisects per
operation.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from .calendar import WorkingTime
from .model import Plan, PlanMachine, PlanOperation


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
    """The hypothetical order cannot be planned (an operation names no known machine)."""


class _Line:
    """One machine's planned operations (start, end, priority), sorted, for gap search."""

    def __init__(self, machine: PlanMachine, booked: list[tuple[float, float, int]], t0: float):
        self.machine_id = machine.machine_id
        self.time = WorkingTime(machine.calendar)
        available = machine.available_at.timestamp() if machine.available_at else t0
        self.available = max(t0, available)
        booked.sort()
        self.starts = [b[0] for b in booked]
        self.booked = booked

    def earliest(self, ready: float, work_s: float, priority: int) -> tuple[float, float]:
        """(start, end) of the first window from `ready` where `work_s` of work fits."""
        start = self.time.next(max(ready, self.available))
        # a booked operation that started before `start` may still be running: look back one
        i = max(bisect_right(self.starts, start) - 1, 0)
        while True:
            end = self.time.add(start, work_s)
            clash = None
            while i < len(self.booked):
                b_start, b_end, b_priority = self.booked[i]
                if b_priority < priority or b_end <= start:
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
        priorities: Mapping[str, int],
        now: datetime,
    ) -> None:
        t0 = now.timestamp()
        booked: dict[str, list[tuple[float, float, int]]] = {m.machine_id: [] for m in machines}
        for planned in plan.operations.values():
            if planned.machine in booked:
                booked[planned.machine].append(
                    (
                        planned.start.timestamp(),
                        planned.end.timestamp(),
                        priorities.get(planned.order_id, 0),
                    )
                )
        self._lines = {m.machine_id: _Line(m, booked[m.machine_id], t0) for m in machines}
        self.now = now
        self._lock = threading.Lock()  # the timelines' calendars extend lazily

    def quote(
        self, operations: Sequence[PlanOperation], priority: int = 0, now: datetime | None = None
    ) -> Quote:
        """Where and when each operation would run, in routing order, from `now` (or the plan's
        own time, if later)."""
        start = self.now if now is None or now < self.now else now
        with self._lock:
            return self._quote(operations, priority, start.timestamp())

    def _quote(self, operations: Sequence[PlanOperation], priority: int, ready: float) -> Quote:
        quoted = []
        for op in operations:
            lines = [self._lines[m] for m in op.machines if m in self._lines]
            if not lines:
                raise QuoteError(
                    f"operation {op.seq}: no machine {', '.join(op.machines)} in the plant"
                )
            best = min(
                ((line.earliest(ready, op.work_s, priority), line.machine_id) for line in lines),
                key=lambda found: (found[0][1], found[1]),
            )
            (start, end), machine = best
            quoted.append(QuotedOperation(op.seq, machine, _utc(start), _utc(end)))
            ready = end
        return Quote(_utc(ready), tuple(quoted))


def _utc(x: float) -> datetime:
    return datetime.fromtimestamp(x, UTC)
