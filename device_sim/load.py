"""The simulator's load mode: N machines x M telemetry readings a second, paced, for benchmarks."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from shopfloor.contract.topics import DEFAULT_TEMPLATE
from shopfloor.mqtt import MqttSettings, broker_settings

from .load_link import Acks, BrokerUnreachable, Tally, open_client
from .load_plan import LoadPlan, LoadSummary, Readings, TokenBucket, percentile, summary_table

__all__ = ["BrokerUnreachable", "LoadPlan", "LoadSummary", "add_arguments", "main", "run_load"]

log = logging.getLogger(__name__)

DEFAULT_DURATION_S = 10.0
BURST_S = 0.05  # the pacer saves up at most this much of the schedule: no catch-up bursts
MAX_BATCH = 1000  # messages generated and published between two looks at the clock
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # stop early, still wait for acks and report


def run_load(
    plan: LoadPlan,
    settings: MqttSettings,
    *,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
) -> LoadSummary:
    """Publish the plan's readings, paced; raise BrokerUnreachable when there is no broker."""
    stop = stop or threading.Event()
    readings = Readings(plan)
    acks = Acks()
    client = open_client(plan, settings, acks)
    window = max(1, min(plan.inflight, acks.receive_maximum if plan.qos else plan.inflight))
    total = plan.messages
    end = None if total is not None else plan.duration_s or DEFAULT_DURATION_S
    task = progress.add_task("publishing", total=total or end) if progress else None
    tally = Tally(plan.qos)
    start, cpu_start = time.perf_counter(), time.process_time()
    bucket = TokenBucket(plan.target_rate, plan.target_rate * BURST_S, start)
    shown = start
    try:
        while not stop.is_set():
            now = time.perf_counter()
            if (total is not None and tally.published + tally.refused >= total) or (
                end is not None and now - start >= end
            ):
                break
            tally.drain(acks)
            room = window - tally.in_flight
            left = MAX_BATCH if total is None else total - tally.published - tally.refused
            n = bucket.take(now, min(room, left, MAX_BATCH))
            if n == 0:
                pause = 0.0005 if room <= 0 else min(bucket.wait(), 0.005)
                if room <= 0:
                    tally.window_full_s += pause
                time.sleep(pause)
            else:
                t0 = time.perf_counter()
                now_ms = time.time_ns() // 1_000_000
                batch = [readings.next(now_ms) for _ in range(n)]
                tally.generate_s += time.perf_counter() - t0
                tally.publish(client, batch)
            if progress is not None and task is not None and now - shown >= 0.1:
                shown = now
                _show(progress, task, tally, total is not None, now - start)
    finally:
        duration = time.perf_counter() - start
        cpu_s = time.process_time() - cpu_start
        if progress is not None and task is not None:
            done = tally.published + tally.refused if total else duration
            progress.update(task, completed=done)
        drain_s = tally.close(client, acks, plan.drain_timeout_s)
    return _summary(plan, readings, tally, window, duration, drain_s, cpu_s)


def _summary(
    plan: LoadPlan,
    readings: Readings,
    tally: Tally,
    window: int,
    duration: float,
    drain_s: float,
    cpu_s: float,
) -> LoadSummary:
    return LoadSummary(
        machines=plan.machines,
        qos=plan.qos,
        target_rate=plan.target_rate,
        published=tally.published,
        acknowledged=tally.acked,
        refused=tally.refused,
        nacked=tally.nacked,
        unacknowledged=tally.in_flight,
        duration_s=duration,
        drain_s=drain_s,
        values_per_reading=readings.values_per_reading,
        window=window,
        window_full_s=tally.window_full_s,
        cpu_s=cpu_s,
        generate_s=tally.generate_s,
        latency_p50_ms=_ms(percentile(tally.latencies, 0.50)),
        latency_p99_ms=_ms(percentile(tally.latencies, 0.99)),
    )


def _show(progress: Progress, task: TaskID, tally: Tally, counted: bool, elapsed: float) -> None:
    """The progress line: sent, rate, in flight; the bar counts messages or seconds."""
    rate = tally.published / elapsed if elapsed > 0 else 0.0
    progress.update(
        task,
        completed=tally.published + tally.refused if counted else elapsed,
        description=f"{tally.published:,} sent, {rate:,.0f} msg/s, {tally.in_flight} in flight",
    )


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The load mode's options."""
    parser.add_argument("--machines", type=int, default=10, help="simulated machines")
    parser.add_argument(
        "--rate", type=float, default=10.0, help="readings a second per machine (default 10)"
    )
    until = parser.add_mutually_exclusive_group()
    until.add_argument(
        "--duration", type=float, default=None, help=f"seconds (default {DEFAULT_DURATION_S:g})"
    )
    until.add_argument("--messages", type=int, default=None, help="stop after this many")
    parser.add_argument("--qos", type=int, choices=[0, 1], default=1)
    parser.add_argument("--broker", default="mqtt://127.0.0.1:1883")
    parser.add_argument("--mqtt-protocol", choices=["5", "3.1.1"], default="5")
    parser.add_argument("--site", default="plant1")
    parser.add_argument("--line", default="line1")
    parser.add_argument("--topic-template", default=DEFAULT_TEMPLATE)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--inflight", type=int, default=100, help="QoS 1 messages awaiting PUBACK, at most"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    """Run the load from parsed options; 0 when every message went through, 1 otherwise."""
    err = Console(stderr=True)
    try:
        settings = broker_settings(args.broker, protocol=args.mqtt_protocol)
        plan = LoadPlan(
            machines=args.machines,
            rate=args.rate,
            duration_s=args.duration,
            messages=args.messages,
            qos=args.qos,
            site=args.site,
            line=args.line,
            template=args.topic_template,
            seed=args.seed,
            inflight=args.inflight,
        )
        _check(plan)
    except ValueError as exc:
        sys.stderr.write(f"shopfloor sim load: {exc}\n")
        return 2
    stop = threading.Event()
    before = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in STOP_SIGNALS}
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err,
        disable=args.quiet or not err.is_terminal,
    )
    try:
        with progress:
            summary = run_load(plan, settings, stop=stop, progress=progress)
    except BrokerUnreachable as exc:
        sys.stderr.write(f"shopfloor sim load: {exc}\n")
        return 1
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
    out = Console()
    out.print(summary_table(summary))
    if not summary.rate_reached:
        out.print(
            f"target rate not reached: {summary.achieved_rate:,.0f} of "
            f"{summary.target_rate:,.0f} msg/s, limited by {summary.limit}",
            soft_wrap=True,
        )
    if summary.failed:
        out.print(f"{summary.failed:,} messages failed")
    return 1 if summary.failed else 0


def _check(plan: LoadPlan) -> None:
    """Refuse a plan that cannot run, naming the option."""
    if plan.machines < 1:
        raise ValueError("--machines must be at least 1")
    if plan.rate <= 0:
        raise ValueError("--rate must be above 0")
    if plan.duration_s is not None and plan.duration_s <= 0:
        raise ValueError("--duration must be above 0")
    if plan.messages is not None and plan.messages < 1:
        raise ValueError("--messages must be at least 1")
    if not 1 <= plan.inflight <= 32_768:
        raise ValueError("--inflight must be 1-32768")
    Readings(plan)  # a topic template that cannot name our topics fails here
