"""The tracker bench's OEE case: 100 machines, a week of their states and jobs, one report.

A week of events for 100 machines through the bus would take minutes, so what they leave in
the database is written in bulk: about 650 state periods per machine (RUNNING, then IDLE,
DOWN, SETUP or OFFLINE), a completed one-operation order every ~2 h per machine with good and
scrap parts, and each machine's current state. The timed part is what `GET /api/v1/oee` does
for a week: `oee_report` on a read-only session, every machine on a two-shift calendar.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import Any

from sqlalchemy import Engine, insert

from tracker.adapters import orm
from tracker.adapters.database import read_session_factory
from tracker.domain.planning.model import Calendar, Shift
from tracker.domain.routing import Plant
from tracker.views.oee_report import oee_report

OEE_MACHINES = 100
WEEK = timedelta(days=7)
_STOPS = ("IDLE", "DOWN", "SETUP", "OFFLINE")
_WEEKDAYS = frozenset(range(5))
CALENDAR = Calendar(
    name="two-shifts",
    shifts=(Shift(_WEEKDAYS, clock_time(6), clock_time(22)),),
    breaks=(Shift(_WEEKDAYS, clock_time(12), clock_time(12, 30)),),
)


def oee_plant(machines: list[str]) -> Plant:
    """Ten machines per work center, five work centers per line, one two-shift calendar."""
    centers = {f"wc-{i // 10}": tuple(machines[i : i + 10]) for i in range(0, len(machines), 10)}
    return Plant(
        machines=tuple(machines),
        work_centers=centers,
        calendars=dict.fromkeys(centers, CALENDAR),
        lines={m: f"line-{i // 50}" for i, m in enumerate(machines)},
    )


def _machine_week(
    machine: str, start: datetime, now: datetime, rng: random.Random
) -> tuple[list[dict[str, Any]], list[tuple[datetime, datetime]], tuple[str, datetime]]:
    """A machine's closed state periods, its RUNNING spans, and its current state."""
    states: list[dict[str, Any]] = []
    running: list[tuple[datetime, datetime]] = []
    t, state = start, "RUNNING"
    while True:
        minutes = rng.uniform(5, 40) if state == "RUNNING" else rng.uniform(2, 15)
        end = t + timedelta(minutes=minutes)
        if end >= now:
            return states, running, (state, t)
        states.append({"machine_id": machine, "state": state, "started_at": t, "ended_at": end})
        if state == "RUNNING":
            running.append((t, end))
        t, state = end, rng.choice(_STOPS) if state == "RUNNING" else "RUNNING"


def _jobs(
    machine: str, start: datetime, now: datetime, rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Completed one-operation orders of ~2 h each, back to back, at a 30 s ideal cycle."""
    orders, operations = [], []
    t, n = start, 0
    while t < now - timedelta(hours=2):
        end = t + timedelta(hours=2)
        order_id = f"{machine}-{n}"
        orders.append(
            {
                "order_id": order_id, "customer": "bench", "product": "part", "quantity": 200,
                "priority": 0, "due_at": end, "created_at": t, "status": "completed",
                "schedule_status": "on_track", "schedule_reasons": [], "completed_at": end,
                "token_hash": "0" * 64,
            }
        )  # fmt: skip
        operations.append(
            {
                "order_id": order_id, "seq": 10, "name": "make", "machine": machine,
                "setup_s": 0.0, "cycle_s": 30.0, "quantity": 200,
                "good_qty": rng.randint(80, 200), "scrap_qty": rng.randint(0, 10),
                "state": "completed", "started_at": t, "completed_at": end, "last_count_at": end,
            }
        )  # fmt: skip
        t, n = end, n + 1
    return orders, operations


def seed_week(engine: Engine, now: datetime, seed: int, count: int = OEE_MACHINES) -> list[str]:
    """Write a week (and a day before it) of `count` machines' states and jobs; their ids."""
    rng = random.Random(seed)
    machines = [f"oee-{i:03d}" for i in range(count)]
    start = now - WEEK - timedelta(days=1)
    states, current, orders, operations = [], [], [], []
    for machine in machines:
        closed, _, (state, since) = _machine_week(machine, start, now, rng)
        states += closed
        current.append({"machine_id": machine, "state": state, "state_since": since})
        made, ops = _jobs(machine, start, now, rng)
        orders += made
        operations += ops
    with engine.begin() as conn:
        conn.execute(insert(orm.machine_states), states)
        conn.execute(insert(orm.machines), current)
        conn.execute(insert(orm.orders), orders)
        conn.execute(insert(orm.operations), operations)
    return machines


def time_oee(engine: Engine, machines: list[str], now: datetime, runs: int = 3) -> list[float]:
    """Seconds of each of `runs` week-long OEE reports of every machine (a fresh session each)."""
    sessions = read_session_factory(engine)
    plant = oee_plant(machines)
    seconds = []
    for _ in range(runs):
        t0 = time.perf_counter()
        with sessions() as session:
            report = oee_report(session, plant, machines, (now - WEEK, now), now)
        seconds.append(time.perf_counter() - t0)
        if len(report.machines) != len(machines):
            raise RuntimeError("the OEE report lost machines")
    return seconds


def oee_case(
    engine: Engine, now: datetime, seed: int, count: int = OEE_MACHINES
) -> tuple[float, str]:
    """Seed, then the median of three timed reports and a note with the first (cold) one."""
    machines = seed_week(engine, now, seed, count)
    seconds = time_oee(engine, machines, now)
    return statistics.median(seconds), f"first {seconds[0]:.3f} s, median of {len(seconds)}"
