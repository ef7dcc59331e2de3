"""OR-Library job-shop instances (Beasley's jobshop1.txt) as plan jobs, and checks on plans.

An instance is a description line, a line `n_jobs n_machines`, then one line per job of
(machine, time) pairs, machines numbered from 0. In jobshop1.txt each instance is preceded by
an `instance <name>` line between separator lines of `+`. Times become seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tracker.domain.planning.calendar import WorkingTime
from tracker.domain.planning.model import Plan, PlanJob, PlanMachine, PlanOperation


@dataclass(frozen=True)
class JobShopInstance:
    """A job-shop instance: per job, its (machine, processing time) steps in order."""

    name: str
    description: str
    n_machines: int
    jobs: tuple[tuple[tuple[int, int], ...], ...]


def _content(lines: list[str]) -> list[str]:
    # the separators and blank lines around the header carry nothing
    return [line.strip() for line in lines if line.strip() and set(line.strip()) != {"+"}]


def parse_instance(text: str, name: str = "") -> JobShopInstance:
    """Parse one instance (optionally preceded by its `instance <name>` line)."""
    lines = _content(text.splitlines())
    if lines and lines[0].split()[0] == "instance":
        name = name or lines[0].split()[1]
        lines = lines[1:]
    if len(lines) < 2:
        raise ValueError(f"job-shop instance {name!r}: no description and size line")
    description = lines[0]
    try:
        n_jobs, n_machines = (int(v) for v in lines[1].split())
        rows = [[int(v) for v in line.split()] for line in lines[2 : 2 + n_jobs]]
    except ValueError as exc:
        raise ValueError(f"job-shop instance {name!r}: not a table of integers ({exc})") from exc
    if len(rows) != n_jobs:
        raise ValueError(f"job-shop instance {name!r}: {n_jobs} jobs announced, {len(rows)} found")
    jobs: list[tuple[tuple[int, int], ...]] = []
    for j, row in enumerate(rows):
        if len(row) % 2 or any(not 0 <= m < n_machines for m in row[0::2]):
            raise ValueError(f"job-shop instance {name!r}: job {j} is not (machine, time) pairs")
        jobs.append(tuple(zip(row[0::2], row[1::2], strict=True)))
    return JobShopInstance(name, description, n_machines, tuple(jobs))


def extract_instance(library: str, name: str) -> JobShopInstance:
    """The instance called `name` in the whole jobshop1.txt text."""
    lines = library.splitlines()
    for k, line in enumerate(lines):
        if line.split() == ["instance", name]:
            end = k + 1
            while end < len(lines) and lines[end].split()[:1] != ["instance"]:
                end += 1
            return parse_instance("\n".join(lines[k:end]), name)
    raise ValueError(f"no job-shop instance {name!r} in the library text")


def to_plan_input(
    instance: JobShopInstance, epoch: datetime
) -> tuple[list[PlanJob], list[PlanMachine]]:
    """Jobs (all released and due at `epoch`) and 24/7 machines m0..mN for the scheduler."""
    width = len(str(len(instance.jobs) - 1))  # zero-padded, so order ids sort as job numbers
    jobs = [
        PlanJob(
            order_id=f"j{j:0{width}d}",
            due_at=epoch,
            released_at=epoch,
            operations=tuple(
                PlanOperation(seq=k + 1, machines=(f"m{m}",), setup_s=0.0, run_s=float(p))
                for k, (m, p) in enumerate(steps)
            ),
        )
        for j, steps in enumerate(instance.jobs)
    ]
    return jobs, [PlanMachine(f"m{m}") for m in range(instance.n_machines)]


def makespan(plan: Plan, epoch: datetime) -> float:
    """Seconds from `epoch` to the end of the plan's last operation (0 for an empty plan)."""
    ends = [op.end for op in plan.operations.values()]
    return (max(ends) - epoch).total_seconds() if ends else 0.0


def check_feasible(
    plan: Plan,
    jobs: Sequence[PlanJob],
    machines: Sequence[PlanMachine],
    now: datetime,
    tolerance_s: float = 1e-3,
) -> list[str]:
    """What is wrong with `plan` for these jobs and machines; empty when it is feasible."""
    tol = timedelta(seconds=tolerance_s)
    by_id = {m.machine_id: m for m in machines}
    by_calendar = {m.calendar: WorkingTime(m.calendar) for m in machines}
    lines = {m.machine_id: by_calendar[m.calendar] for m in machines}
    problems: list[str] = []
    runs: dict[str, list[tuple[datetime, datetime, str]]] = {}
    for job in jobs:
        if job.order_id in plan.unplanned:
            continue
        ready = now if job.operations and job.operations[0].running_on else job.released_at
        ready = max(now, ready)
        for op in job.operations:
            name = f"{job.order_id}/{op.seq}"
            planned = plan.operations.get((job.order_id, op.seq))
            if planned is None:
                problems.append(f"{name} is not planned")
                continue
            allowed = (op.running_on,) if op.running_on else op.machines
            machine = by_id.get(planned.machine)
            if planned.machine not in allowed or machine is None:
                problems.append(f"{name} is on {planned.machine}, not one of {allowed}")
                continue
            up = max(now, machine.available_at or now)
            if planned.start < ready - tol or planned.start < up - tol:
                problems.append(f"{name} starts before it is ready or its machine is up")
            line = lines[planned.machine]
            start, end = planned.start.timestamp(), planned.end.timestamp()
            if op.work_s > 0 and line.next(start) - start > tolerance_s:
                problems.append(f"{name} starts outside working time")
            if abs(line.between(start, end) - op.work_s) > tolerance_s:
                problems.append(f"{name} has {line.between(start, end)} s of work, not {op.work_s}")
            runs.setdefault(planned.machine, []).append((planned.start, planned.end, name))
            ready = planned.end
        if job.operations and plan.etas.get(job.order_id) != ready:
            problems.append(f"{job.order_id}: ETA is not the end of its last operation")
    for machine_id, spans in runs.items():
        spans.sort()
        for (_, a_end, a), (b_start, _, b) in zip(spans, spans[1:], strict=False):
            if b_start < a_end - tol:
                problems.append(f"{a} and {b} overlap on {machine_id}")
    return problems
