"""What the scheduling bench plans: a seeded make-to-order plant, and OR-Library job shops."""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from tracker.domain.planning.jobshop import parse_instance, to_plan_input
from tracker.domain.planning.model import PlanJob, PlanMachine, PlanOperation

T = TypeVar("T")

MACHINES_PER_CENTER = 5
JOBSHOP_DIR = Path(__file__).resolve().parents[2] / "tests" / "data" / "jobshop"
# the published optima of the instances the bench plans
OPTIMA = {"ft06": 55, "ft10": 930, "la01": 666}
NO_DUE_DATE = timedelta(days=3650)  # past any schedule: tardiness 0, the makespan decides


@dataclass(frozen=True)
class Shop:
    """Jobs and machines to plan from `now`."""

    name: str
    jobs: list[PlanJob]
    machines: list[PlanMachine]
    now: datetime


def timed(run: Callable[[], T]) -> tuple[T, float]:
    """`run()`'s result and the seconds it took."""
    t0 = time.perf_counter()
    result = run()
    return result, time.perf_counter() - t0


def jobshop(name: str, now: datetime, directory: Path = JOBSHOP_DIR) -> Shop:
    """An OR-Library instance, every job released at `now` and due far past any schedule."""
    instance = parse_instance((directory / f"{name}.txt").read_text(), name)
    jobs, machines = to_plan_input(instance, now)
    # job-shop instances have no due dates; due at `now` would make every rule and the
    # optimiser chase total lateness instead of the makespan the optima are published for
    jobs = [dataclasses.replace(job, due_at=now + NO_DUE_DATE) for job in jobs]
    return Shop(name, jobs, machines, now)


def plant(n_orders: int, n_ops: int, n_machines: int, now: datetime, seed: int) -> Shop:
    """Seeded open orders on work centers of five machines, some already running or late."""
    # most operations name a work center (any of its machines), one in five a single machine;
    # setup 5-30 min, run 1-40 parts of 10-180 s; most orders released in the last ten days,
    # one in ten in the coming week; due from two days ago to 45 days out; a few urgent
    # orders with a higher priority; an operation running on most machines; one machine down
    rng = random.Random(seed)
    n_centers = max(1, n_machines // MACHINES_PER_CENTER)
    names = [f"wc{i % n_centers:02d}-{i // n_centers}" for i in range(n_machines)]
    centers = [tuple(names[c::n_centers]) for c in range(n_centers)]
    machines = [PlanMachine(name) for name in sorted(names)]
    jobs = []
    for j in range(n_orders):
        ops = []
        for k in range(n_ops):
            center = centers[rng.randrange(n_centers)]
            where = center if rng.random() < 0.8 else (rng.choice(center),)
            run_s = rng.randint(1, 40) * rng.uniform(10, 180)
            ops.append(PlanOperation(10 * (k + 1), where, rng.uniform(300, 1800), run_s))
        if rng.random() < 0.9:
            released = now - timedelta(days=rng.uniform(0, 10))
        else:
            released = now + timedelta(days=rng.uniform(0, 7))
        due = now + timedelta(days=rng.uniform(-2, 45))
        priority = rng.choices((0, 1, 2), weights=(90, 8, 2))[0]
        jobs.append(PlanJob(f"o{j:06d}", due, released, tuple(ops), priority))
    # one operation running on most machines: the first of an order released in the past
    busy = rng.sample(machines, k=min(len(jobs), int(len(machines) * 0.8)))
    for j, machine in enumerate(busy):
        on, rest = machine.machine_id, jobs[j].operations[1:]
        first = dataclasses.replace(jobs[j].operations[0], machines=(on,), setup_s=0, running_on=on)
        jobs[j] = dataclasses.replace(jobs[j], released_at=now - timedelta(hours=1))
        jobs[j] = dataclasses.replace(jobs[j], operations=(first, *rest))
    down = machines[-1]
    machines[-1] = dataclasses.replace(down, available_at=now + timedelta(minutes=20))
    return Shop("plant", jobs, machines, now)


def broken(shop: Shop, machine_id: str, for_s: float) -> list[PlanMachine]:
    """The machines with `machine_id` down from `shop.now` for `for_s` seconds."""
    back = shop.now + timedelta(seconds=for_s)
    return [
        dataclasses.replace(m, available_at=back) if m.machine_id == machine_id else m
        for m in shop.machines
    ]


def quote_routings(shop: Shop, n: int, seed: int) -> list[tuple[list[PlanOperation], int]]:
    """`n` hypothetical orders (routing, priority) like the plant's own, for quotes."""
    rng = random.Random(seed + 1)
    routings = [job.operations for job in shop.jobs if not job.operations[0].running_on]
    out = []
    for _ in range(n):
        like = rng.choice(routings)
        ops = [dataclasses.replace(op, run_s=op.run_s * rng.uniform(0.5, 1.5)) for op in like]
        out.append((ops, rng.choices((0, 1, 2), weights=(90, 8, 2))[0]))
    return out
