"""`shopfloor bench tracker`: machine events and the periodic check, on SQLite and PostgreSQL.

Events take the real path without a broker (the gateway bench measures the broker's share):
`EventConsumer.parse` maps each message to a command and `EventConsumer.apply` hands a batch
of them (the running consumer's batch size) to `MessageBus.handle_batch`: one transaction per
batch. Side by side, in the same run: the consumer's mapping alone (what is left without the
bus and the database), and one bare INSERT + COMMIT per event (the floor of a
transaction-per-event design on that database); for the periodic check, loading every open
order in one SELECT and projecting it, writing nothing; then OEE of 100 machines over a week
(`tracker_oee.py`). The last line is JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import random
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psutil

from tracker.adapters.database import make_engine, session_factory
from tracker.adapters.unit_of_work import SqlUnits
from tracker.domain import commands
from tracker.entrypoints.mqtt_consumer import BATCH_SIZE
from tracker.service_layer.bus import MessageBus

from ..services.postgres import postgres_server_url
from .running import measured, progress
from .tracker_cases import (
    NullBus,
    Rate,
    Row,
    apply_events,
    commit_floor,
    evaluate,
    evaluate_one_select,
    open_orders,
    utc_now,
)
from .tracker_databases import fresh_postgres, fresh_sqlite
from .tracker_oee import OEE_MACHINES, oee_case
from .tracker_report import ratios, summary, table, targets
from .tracker_seed import grow_open_orders
from .tracker_stream import event_stream, import_command, machine_ids, make_orders

MB = 1024 * 1024
FLOOR_COMMITS = 1_000  # bare commits per database: enough for a rate


@dataclass
class Plan:
    """What every database gets: the same orders, the same stream, the same top-up."""

    orders: list[commands.CreateOrder]
    stream: list[tuple[str, bytes]]
    args: argparse.Namespace
    rows: list[Row] = field(default_factory=list)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The bench's command line."""
    p = argparse.ArgumentParser(prog="shopfloor bench tracker", description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=30_000, help="machine events in the stream")
    p.add_argument(
        "--budget-s",
        type=float,
        default=5.0,
        help="stop applying the stream on a database after this many seconds",
    )
    p.add_argument("--machines", type=int, default=100)
    p.add_argument("--orders", type=int, default=2_000, help="open orders the events work on")
    p.add_argument("--evaluate-orders", type=int, default=10_000, help="open orders checked")
    p.add_argument(
        "--oee-machines", type=int, default=OEE_MACHINES, help="machines of the OEE case's week"
    )
    p.add_argument(
        "--floor-commits",
        type=int,
        default=FLOOR_COMMITS,
        help="bare INSERT + COMMITs per database for the floor",
    )
    p.add_argument("--pg-server", default=postgres_server_url(), help="PostgreSQL server URL")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    counts = (args.events, args.machines, args.orders, args.oee_machines, args.floor_commits)
    if min(counts) < 1 or args.budget_s <= 0:
        p.error(
            "--events, --machines, --orders, --oee-machines and --floor-commits must be >= 1, "
            "--budget-s > 0"
        )
    if args.evaluate_orders < args.orders:
        p.error("--evaluate-orders must be at least --orders")
    return args


def make_plan(args: argparse.Namespace) -> Plan:
    rng = random.Random(args.seed)
    now = utc_now()
    machines = machine_ids(args.machines)
    orders = make_orders(args.orders, machines, now, rng)
    # the machines' clocks: the stream ends around now, as if replayed from the last hours
    start = now - timedelta(hours=6)
    stream = event_stream(orders, machines, args.events, start, rng)
    return Plan(orders, stream, args)


def run_mapping(plan: Plan) -> None:
    """The consumer's mapping alone (topic, payload, command), handing commands to a stub bus."""
    rate = apply_events("events: mapping only (no bus)", NullBus(), plan.stream, 60.0)
    plan.rows.append(Row("mapping", "events", rate))


def run_database(db: str, url: str, plan: Plan) -> None:
    """Seed, apply the stream, the floor, then evaluate --evaluate-orders open orders."""
    engine = make_engine(url)
    try:
        sessions = session_factory(engine)
        bus = MessageBus(SqlUnits(sessions), utc_now)
        t0 = time.perf_counter()
        bus.handle(import_command(plan.orders))
        seconds = time.perf_counter() - t0
        plan.rows.append(Row(db, "seed", Rate("seed: ImportOrders", len(plan.orders), seconds)))
        name = f"events: tracker (batches of {BATCH_SIZE})"
        rate = apply_events(name, bus, plan.stream, plan.args.budget_s)
        plan.rows.append(Row(db, "events", rate))
        plan.rows.append(Row(db, "floor", commit_floor(engine, plan.args.floor_commits)))
        grow_open_orders(engine, plan.args.evaluate_orders)
        n = open_orders(engine)
        plan.rows.append(Row(db, "evaluate", Rate("evaluate: CheckOrders", n, evaluate(bus))))
        load_s, check_s = evaluate_one_select(sessions)
        note = f"load {load_s:.2f} s + check {check_s:.3f} s"
        name = "evaluate: one SELECT, nothing written"
        plan.rows.append(Row(db, "select", Rate(name, n, load_s + check_s, note)))
        machines = plan.args.oee_machines
        oee_s, note = oee_case(engine, utc_now(), plan.args.seed, machines)
        plan.rows.append(Row(db, "oee", Rate(f"oee: {machines} machines, a week", 1, oee_s, note)))
    finally:
        engine.dispose()


@contextlib.contextmanager
def peak_rss() -> Iterator[Callable[[], int]]:
    """Peak RSS in bytes: psutil samples every 50 ms, and the kernel's high-water mark."""
    proc, peak, stop = psutil.Process(), [0], threading.Event()

    def sample() -> None:
        while not stop.wait(0.05):
            peak[0] = max(peak[0], proc.memory_info().rss)

    thread = threading.Thread(target=sample, name="rss", daemon=True)
    thread.start()

    def read() -> int:
        high_water = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
        return max(peak[0], int(proc.memory_info().rss), high_water)

    try:
        yield read
    finally:
        stop.set()
        thread.join()


def run(args: argparse.Namespace, workdir: Path, rss: Callable[[], int]) -> dict[str, object]:
    """Every case on dicts, SQLite and PostgreSQL; print the table; return the JSON summary."""
    progress(f"generating {args.orders:,} orders on {args.machines} machines and their events ...")
    plan = make_plan(args)
    progress(f"{len(plan.stream):,} events (redeliveries included); mapping only ...")
    run_mapping(plan)
    with fresh_sqlite(workdir) as url:
        progress("sqlite ...")
        run_database("sqlite", url, plan)
    with fresh_postgres(args.pg_server) as url:
        progress("postgres ...")
        run_database("postgres", url, plan)
    print(
        f"shopfloor bench tracker: {args.machines} machines, {args.orders:,} open orders, "
        f"{len(plan.stream):,} events (at most {args.budget_s:g} s per database), "
        f"evaluation of {args.evaluate_orders:,} open orders"
    )
    print(table(plan.rows))
    extra: dict[str, object] = {
        "events": len(plan.stream),
        "orders": args.orders,
        "machines": args.machines,
        "evaluate_orders": args.evaluate_orders,
        "oee_machines": args.oee_machines,
        "loadavg_1m_end": round(os.getloadavg()[0], 2),
    }
    result = summary(plan.rows, rss(), extra)
    print(ratios(result))
    print(targets(result))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for `shopfloor bench tracker` and `python -m launcher.bench.tracker`."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # the tracker logs every completed operation and late order: thousands of lines here, whose
    # cost depends on where they go, so the bench measures without them (errors still show)
    logging.getLogger("tracker").setLevel(logging.ERROR)
    with peak_rss() as rss, tempfile.TemporaryDirectory(prefix="shopfloor-bench-") as tmp:
        result = measured(lambda: run(args, Path(tmp), rss))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
