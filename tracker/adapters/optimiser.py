"""Improve a dispatch plan with OR-Tools CP-SAT: least total tardiness first, then makespan.

Per operation a start and an interval on its machine (a work center: optional intervals, one
present); NoOverlap per machine; routing order; no start before release or machine up; a
running operation starts when its machine is up. Time is whole seconds from `now` (work,
release and up round up, due dates down); the solution is then compacted with exact times
(each operation as early as machine order and routing allow), which only moves work earlier.

Two solves, not one weighted sum: a weight above any makespan (1e6 s on a two-week horizon)
lifts the objective to ~1e14, where CP-SAT's floating-point bounds lose precision. Phase 1 (at
most half the time) minimises total tardiness, skipped when the hint's is 0; phase 2 minimises
makespan with tardiness bounded by phase 1's. Only 24/7 machines are planned: work pauses
outside shifts, which a fixed-size interval cannot express, so a shift calendar gives None.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tracker.domain.planning.model import Plan, PlanJob, PlanMachine, PlannedOperation, Rule
from tracker.service_layer.optimiser import OptimiserUnavailable

if TYPE_CHECKING:
    from ortools.sat.python.cp_model import CpModel, CpSolver, IntVar

log = logging.getLogger(__name__)

MISSING = "the optimiser needs OR-Tools, the `optimize` extra: pip install 'shopfloor[optimize]'"

Placed = list[list[tuple[float, str]]]  # per job, each operation's (start from now, machine)


@dataclass(frozen=True)
class _Problem:
    """The plannable jobs in model units (whole seconds from now) and in exact seconds."""

    jobs: list[PlanJob]
    candidates: list[list[tuple[str, ...]]]  # per job, per operation
    work: list[list[float]]
    ready: list[float]  # exact seconds from now
    due: list[int]
    up: dict[str, float]
    unplanned: dict[str, str]  # order: why it cannot be planned
    done: dict[str, datetime]  # order with nothing left to do: its ETA


def optimise(
    jobs: Sequence[PlanJob],
    machines: Sequence[PlanMachine],
    now: datetime,
    time_limit_s: float = 10.0,
    workers: int = 2,
    hint: Plan | None = None,
) -> Plan | None:
    """A CP-SAT plan of `jobs` from `hint`'s; None if none in time or a calendar is involved."""
    try:
        from ortools.sat.python import cp_model  # noqa: F401  # fail here, naming the extra
    except ImportError as exc:
        raise OptimiserUnavailable(MISSING) from exc
    deadline = time.monotonic() + time_limit_s
    if now.utcoffset() is None:
        raise ValueError(f"now must be an aware datetime, got {now!r}")
    problem = _problem(jobs, machines, now)
    if problem is None:
        return None
    rule = hint.rule if hint is not None else Rule.EDD  # the rule of the plan it improves
    if not problem.jobs:
        return _plan(problem, [], now, rule)
    model = _Model(problem)
    best = _hint(problem, hint, now) if hint is not None else None
    bound: int | None = None
    if best is not None:  # never worse than the hint
        bound = model.tardiness_of(best)
        model.hint(best)
        model.model.add(model.total_tardiness <= bound)
    if bound != 0:  # phase 1: the least total tardiness
        model.model.minimize(model.total_tardiness)
        solver = _solve(model.model, (deadline - time.monotonic()) / 2, workers)
        if solver is not None:
            bound, best = int(solver.value(model.total_tardiness)), model.read(solver)
            model.hint(best)
    if best is None or bound is None:
        return None
    model.model.add(model.total_tardiness <= bound)  # phase 2: then the shortest makespan
    model.model.minimize(model.makespan)
    solver = _solve(model.model, deadline - time.monotonic(), workers)
    if solver is not None:
        best = model.read(solver)
    return _plan(problem, _compact(problem, best, exact=True), now, rule)


def _problem(
    jobs: Sequence[PlanJob], machines: Sequence[PlanMachine], now: datetime
) -> _Problem | None:
    """The model's data; None when a job may run on a machine with a shift calendar."""
    t0, by_id = now.timestamp(), {m.machine_id: m for m in machines}
    up = {k: max(0.0, (m.available_at or now).timestamp() - t0) for k, m in by_id.items()}
    problem = _Problem([], [], [], [], [], up, {}, {})
    for job in jobs:
        released = max(0.0, job.released_at.timestamp() - t0)
        if not job.operations:
            problem.done[job.order_id] = now.astimezone(UTC) + timedelta(seconds=released)
            continue
        candidates = [
            tuple(m for m in ((op.running_on,) if op.running_on else op.machines) if m in by_id)
            for op in job.operations
        ]
        if missing := [op.seq for op, c in zip(job.operations, candidates, strict=True) if not c]:
            problem.unplanned[job.order_id] = f"operations {missing}: no machine in the plant"
            continue
        if any(not by_id[m].calendar.always for c in candidates for m in c):
            log.info("optimiser: %s may run on a machine with a shift calendar", job.order_id)
            return None
        if any(op.work_s < 0 for op in job.operations):
            raise ValueError(f"order {job.order_id!r}: negative work time")
        problem.jobs.append(job)
        problem.candidates.append(candidates)
        problem.work.append([op.work_s for op in job.operations])
        problem.ready.append(0.0 if job.operations[0].running_on else released)
        problem.due.append(math.floor(job.due_at.timestamp() - t0))
    return problem


class _Model:
    """The CP-SAT model of a problem: starts, machine choices, tardiness and makespan."""

    def __init__(self, problem: _Problem) -> None:
        from ortools.sat.python import cp_model

        self.problem = problem
        model = self.model = cp_model.CpModel()
        ups = {m: math.ceil(u) for m, u in problem.up.items()}
        horizon = max([0, *ups.values(), *map(math.ceil, problem.ready)])
        horizon += sum(_size(w) for work in problem.work for w in work)
        self.start: list[list[IntVar]] = []
        self.pick: list[list[dict[str, IntVar]]] = []  # only for operations with a choice
        on: dict[str, list[cp_model.IntervalVar]] = {m: [] for m in ups}
        fixed_on: set[str] = set()
        late = []
        self.makespan = model.new_int_var(0, horizon, "makespan")
        for j, candidates in enumerate(problem.candidates):
            starts, picks = [], []
            ready: cp_model.LinearExprT = math.ceil(problem.ready[j])
            running = problem.jobs[j].operations[0].running_on
            for k, machines in enumerate(candidates):
                size = _size(problem.work[j][k])
                start = model.new_int_var(0, horizon, f"s{j}_{k}")
                model.add(start >= ready)
                # a work center chooses one of its machines; a lone candidate is always present
                lits = {m: model.new_bool_var("") for m in machines} if len(machines) > 1 else {}
                for m in machines:
                    present = lits.get(m, True)
                    on[m].append(
                        model.new_optional_fixed_size_interval_var(start, size, present, "")
                    )
                    model.add(start >= ups[m]).only_enforce_if(present)
                if lits:
                    model.add_exactly_one(lits.values())
                if k == 0 and running and running not in fixed_on:
                    fixed_on.add(running)  # a second operation "running" on it waits (bad data)
                    model.add(start == ups[running])
                starts.append(start)
                picks.append(lits)
                ready = start + size
            self.start.append(starts)
            self.pick.append(picks)
            model.add(self.makespan >= ready)
            tardy = model.new_int_var(0, horizon + max(0, -problem.due[j]), f"t{j}")
            model.add(tardy >= ready - problem.due[j])
            late.append(tardy)
        for intervals in on.values():
            if len(intervals) > 1:
                model.add_no_overlap(intervals)
        self.total_tardiness = cp_model.LinearExpr.sum(late)

    def hint(self, placed: Placed) -> None:
        """Start the search from this schedule (replacing any earlier hint)."""
        self.model.clear_hints()  # type: ignore[no-untyped-call]  # untyped in OR-Tools 9.15
        for j, ops in enumerate(placed):
            for k, (start, machine) in enumerate(ops):
                self.model.add_hint(self.start[j][k], int(start))
                for m, lit in self.pick[j][k].items():
                    self.model.add_hint(lit, m == machine)

    def tardiness_of(self, placed: Placed) -> int:
        """The model's total tardiness of a schedule in model units."""
        p = self.problem
        ends = (int(ops[-1][0]) + _size(w[-1]) for ops, w in zip(placed, p.work, strict=True))
        return sum(max(0, end - due) for end, due in zip(ends, p.due, strict=True))

    def read(self, solver: CpSolver) -> Placed:
        """The solver's schedule: each operation's start and machine."""
        return [
            [(float(solver.value(s)), self._machine(solver, j, k)) for k, s in enumerate(starts)]
            for j, starts in enumerate(self.start)
        ]

    def _machine(self, solver: CpSolver, j: int, k: int) -> str:
        chosen = (m for m, lit in self.pick[j][k].items() if solver.boolean_value(lit))
        return next(chosen, self.problem.candidates[j][k][0])


def _size(work_s: float) -> int:
    """Model duration: whole seconds, rounded up, at least 1 so no interval hides in another."""
    return max(1, math.ceil(work_s))


def _solve(model: CpModel, limit_s: float, workers: int) -> CpSolver | None:
    """A solver holding a solution, or None when there is none within the limit."""
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(limit_s, 0.05)
    solver.parameters.num_workers = workers
    status = solver.solve(model)
    log.debug("optimiser: %s in %.2f s", solver.status_name(status), solver.wall_time)
    return solver if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None


def _hint(problem: _Problem, hint: Plan, now: datetime) -> Placed | None:
    """The hint as a schedule the model accepts (its orders kept), or None if it lacks some."""
    placed: Placed = []
    for job, candidates in zip(problem.jobs, problem.candidates, strict=True):
        ops = []
        for op, machines in zip(job.operations, candidates, strict=True):
            planned = hint.operations.get((job.order_id, op.seq))
            if planned is None or planned.machine not in machines:
                log.debug("optimiser: the hint has no usable %s/%s", job.order_id, op.seq)
                return None
            ops.append(((planned.start - now).total_seconds(), planned.machine))
        placed.append(ops)
    return [[(s, m) for s, m, _ in ops] for ops in _compact(problem, placed, exact=False)]


def _compact(
    problem: _Problem, placed: Placed, exact: bool
) -> list[list[tuple[float, str, float]]]:
    """Each operation as early as machine order and routing allow: (start, machine, end)."""
    # exact: the real times, for the plan; else the model's rounded-up ones, for a hint
    order = sorted((ops[k][0], j, k) for j, ops in enumerate(placed) for k in range(len(ops)))
    free = {m: u if exact else float(math.ceil(u)) for m, u in problem.up.items()}
    out: list[list[tuple[float, str, float]]] = [[] for _ in placed]
    for _, j, k in order:
        machine = placed[j][k][1]
        ready = out[j][k - 1][2] if k else problem.ready[j]
        start = max(ready if exact else math.ceil(ready), free[machine])
        end = start + (problem.work[j][k] if exact else _size(problem.work[j][k]))
        out[j].append((start, machine, end))
        free[machine] = end
    return out


def _plan(
    problem: _Problem, placed: list[list[tuple[float, str, float]]], now: datetime, rule: Rule
) -> Plan:
    """The schedule as a Plan, like the dispatcher's."""
    at = now.astimezone(UTC)
    operations: dict[tuple[str, int], PlannedOperation] = {}
    etas = dict(problem.done)
    for job, ops in zip(problem.jobs, placed, strict=True):
        for op, (start, machine, end) in zip(job.operations, ops, strict=True):
            begin, finish = at + timedelta(seconds=start), at + timedelta(seconds=end)
            operations[job.order_id, op.seq] = PlannedOperation(
                job.order_id, op.seq, machine, begin, finish
            )
            etas[job.order_id] = finish
    return Plan(now, rule, operations, etas, problem.unplanned)
