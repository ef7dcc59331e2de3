"""The plan: open orders and machines read from the database, scheduled, kept and written back.

Planning reads plain rows (no mapped objects, no locks) so it never holds up machine events;
the plan is kept in memory for ETAs, quotes and the board; what an operation was planned to
be when it started is stored on the operation (planned vs actual).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from tracker.domain import events
from tracker.domain.commands import OperationSpec
from tracker.domain.model import OperationState
from tracker.domain.planning.comparison import better, total_tardiness_s
from tracker.domain.planning.dispatching_rules import schedule
from tracker.domain.planning.model import Plan, PlanJob, PlanMachine, PlanOperation, Rule
from tracker.domain.planning.quote import Quote, QuoteBook
from tracker.domain.routing import Plant
from tracker.domain.schedule import STOPPED_STATES

from .optimiser import Optimise, OptimiserUnavailable
from .unit_of_work import PlanningReads, PlanningSessions, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlanningPolicy:
    """How the plan is made: the dispatching rule and how long a stopped machine stays out."""

    rule: Rule = Rule.EDD
    # a DOWN or OFFLINE machine is planned as available again this long from now
    down_allowance_s: float = 1800.0
    # CP-SAT time limit for improving each dispatch plan off the event path; 0: off
    optimise_s: float = 0.0


def planning_inputs(
    reads: PlanningReads, plant: Plant, now: datetime, policy: PlanningPolicy
) -> tuple[list[PlanJob], list[PlanMachine]]:
    """The open orders' remaining operations and every machine, as the scheduler takes them."""
    machines = {row.machine_id: row for row in reads.machine_rows()}
    bound = {(r.order_id, r.seq): r.machine_id for r in machines.values() if r.order_id}
    orders = reads.open_orders_to_plan()
    ops = reads.open_operations()
    jobs = []
    names: set[str] = set(plant.machines) | set(machines)
    for order in orders:
        remaining = tuple(_operation(row, plant, bound) for row in ops.get(order.order_id, ()))
        if not remaining:
            continue
        for planned in remaining:
            names.update(planned.machines)
        jobs.append(
            PlanJob(
                order_id=order.order_id,
                due_at=order.due_at,
                released_at=order.released_at or order.created_at,
                operations=remaining,
                priority=order.priority,
            )
        )
    back = now + timedelta(seconds=policy.down_allowance_s)
    plan_machines = [
        PlanMachine(
            name,
            plant.calendar_of(name),
            back if name in machines and machines[name].state in STOPPED_STATES else None,
        )
        for name in sorted(names)
    ]
    return jobs, plan_machines


def _operation(row: Any, plant: Plant, bound: dict[tuple[str, int], str]) -> PlanOperation:
    started = row.started_at is not None
    left = max(row.quantity - row.good_qty, 0)
    running_on = bound.get((row.order_id, row.seq))
    if running_on is None and row.state == OperationState.RUNNING.value:
        candidates = plant.machines_for(row.machine)
        running_on = candidates[0] if len(candidates) == 1 else None
    return PlanOperation(
        seq=row.seq,
        machines=plant.machines_for(row.machine),
        setup_s=0.0 if started else row.setup_s,
        run_s=(row.observed_cycle_s or row.cycle_s) * left,
        running_on=running_on,
    )


def freeze_planned(event: events.OperationStarted, uow: UnitOfWork, now: datetime) -> None:
    """Keep the plan an operation had when it started: planned vs actual, for the board.

    The current plan of operations not started yet lives in memory (it moves with every
    replan); only this baseline is stored, one row per operation start.
    """
    planned = uow.plan.operations.get((event.order_id, event.seq)) if uow.plan else None
    if planned is None:
        return
    uow.freeze_planned(event.order_id, event.seq, planned.machine, planned.start, planned.end)


class Planner:
    """Keeps the current plan; replans on request, debounced, on its own thread.

    `request()` is cheap and may be called after every command: a burst of events gives one
    replan `debounce_s` after the burst goes quiet (and at least every `max_delay_s` while it
    lasts). `on_replanned` runs after each plan (the tracker re-assesses open orders with it).
    """

    def __init__(
        self,
        reads: PlanningSessions,
        plant: Plant,
        clock: Callable[[], datetime],
        policy: PlanningPolicy | None = None,
        on_replanned: Callable[[Plan], None] = lambda _plan: None,
        debounce_s: float = 1.0,
        max_delay_s: float = 10.0,
        optimise: Optimise | None = None,
    ) -> None:
        self._reads = reads
        self._optimise = optimise  # None: dispatch plans only, whatever the policy says
        self._plant = plant
        self._clock = clock
        self.policy = policy or PlanningPolicy()
        self._on_replanned = on_replanned
        self._debounce_s = debounce_s
        self._max_delay_s = max_delay_s
        self._lock = threading.Lock()  # one replan at a time
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.current: Plan | None = None
        # what quotes need of the current plan; the book is built from it on the first quote
        # against that plan (quotes are rare, replans frequent)
        self._quotable: tuple[Plan, list[PlanMachine], list[PlanJob], datetime] | None = None
        self._book: QuoteBook | None = None
        self._book_lock = threading.Lock()
        self._optimising = threading.Lock()  # one optimiser run at a time
        self.replans = 0
        self.last_duration_s = 0.0

    def replan(self) -> Plan:
        """Plan every open order now, keep the plan and write it; returns it."""
        with self._lock:
            t0 = time.perf_counter()
            now = self._clock()
            with self._reads() as reads:
                jobs, machines = planning_inputs(reads, self._plant, now, self.policy)
            plan = schedule(jobs, machines, now, self.policy.rule)
            self.current = plan
            self._quotable = (plan, machines, jobs, now)
            self.replans += 1
            self.last_duration_s = time.perf_counter() - t0
            for order_id, reason in plan.unplanned.items():
                log.warning("order %s cannot be planned: %s", order_id, reason)
            log.info(
                "planned %d operations of %d orders on %d machines (%s) in %.2fs",
                len(plan.operations),
                len(jobs),
                len(machines),
                plan.rule.value,
                self.last_duration_s,
            )
        self._on_replanned(plan)
        if self._may_optimise(plan) and self._optimising.acquire(False):
            threading.Thread(
                target=self._improve, args=(jobs, machines, now, plan), daemon=True
            ).start()
        return plan

    def _may_optimise(self, plan: Plan) -> bool:
        return self._optimise is not None and self.policy.optimise_s > 0 and bool(plan.operations)

    def _improve(
        self, jobs: list[PlanJob], machines: list[PlanMachine], now: datetime, plan: Plan
    ) -> None:
        """Let the optimiser improve `plan`; use its plan only when it is better and still new."""
        try:
            assert self._optimise is not None  # _may_optimise said so
            improved = self._optimise(jobs, machines, now, self.policy.optimise_s, hint=plan)
        except OptimiserUnavailable as exc:
            log.error("%s; planning with %s only", exc, plan.rule.value)
            self.policy = replace(self.policy, optimise_s=0.0)
            return
        except Exception:
            log.exception("the optimiser failed; the dispatch plan stays")
            return
        finally:
            self._optimising.release()
        if improved is None or not better(improved, plan, jobs):
            log.info("the optimiser found no better plan than %s's", plan.rule.value)
            return
        with self._lock:
            if self.current is not plan:
                return  # reality moved on while it ran: the newer dispatch plan stands
            self.current = improved
            self._quotable = (improved, machines, jobs, now)
        log.info(
            "optimised plan in use: tardiness %.0f s (dispatch %.0f s)",
            total_tardiness_s(improved, jobs),
            total_tardiness_s(plan, jobs),
        )
        self._on_replanned(improved)

    def quote(
        self,
        operations: Sequence[OperationSpec],
        quantity: int,
        priority: int,
        due_at: datetime | None = None,
    ) -> Quote:
        """The earliest completion of a hypothetical order against the current plan (booked
        nowhere); plans first when there is no plan yet. Raises QuoteError for unknown machines."""
        if self._quotable is None:
            self.replan()
        book = self._quote_book()
        ops = [
            PlanOperation(
                seq=spec.seq,
                machines=self._plant.machines_for(spec.machine),
                setup_s=spec.setup_s,
                run_s=spec.cycle_s * quantity,
            )
            for spec in operations
        ]
        return book.quote(ops, priority, self._clock(), due_at)

    def _quote_book(self) -> QuoteBook:
        """The quote book of the current plan, built once per plan."""
        quotable = self._quotable
        assert quotable is not None
        with self._book_lock:
            if self._book is None or self._book.plan is not quotable[0]:
                self._book = QuoteBook(*quotable)
            return self._book

    def request(self) -> None:
        """Ask for a replan soon (debounced)."""
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="planner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait()
            first = time.monotonic()
            # wait for the burst to go quiet, but not for ever
            while not self._stopping.is_set():
                self._wake.clear()
                left = self._max_delay_s - (time.monotonic() - first)
                if left <= 0 or not self._wake.wait(min(self._debounce_s, left)):
                    break
            if self._stopping.is_set():
                return
            try:
                self.replan()
            except Exception:
                log.exception("planning failed; the previous plan stays in use")
