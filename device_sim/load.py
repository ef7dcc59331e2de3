"""The simulator's load mode: N machines x M telemetry readings a second, paced, for benchmarks."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
import uuid
from array import array
from collections import deque
from typing import Any

import paho.mqtt.client as mqtt
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from shopfloor.contract.topics import DEFAULT_TEMPLATE
from shopfloor.mqtt import MqttSettings, broker_settings, connect, make_client, unreachable

from .load_plan import LoadPlan, LoadSummary, Readings, TokenBucket, percentile, summary_table

__all__ = ["BrokerUnreachable", "LoadPlan", "LoadSummary", "add_arguments", "main", "run_load"]

log = logging.getLogger(__name__)

DEFAULT_DURATION_S = 10.0
BURST_S = 0.05  # the pacer saves up at most this much of the schedule: no catch-up bursts
MAX_BATCH = 1000  # messages generated and published between two looks at the clock
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # stop early, still wait for acks and report


class BrokerUnreachable(ConnectionError):
    """The broker did not accept our connection; the message names host:port."""


class _Acks:
    """PUBACKs (or QoS 0 writes) from paho's thread, handed to the publishing thread in order."""

    def __init__(self) -> None:
        self.queue: deque[tuple[int, float, bool]] = deque()
        self.connected = threading.Event()
        self.refused: str | None = None
        self.receive_maximum = 65535

    def on_publish(self, _c: Any, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        self.queue.append((mid, time.perf_counter(), bool(reason.is_failure)))

    def on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self.refused = str(reason)
        self.receive_maximum = getattr(props, "ReceiveMaximum", self.receive_maximum)
        self.connected.set()


def _open(plan: LoadPlan, settings: MqttSettings, acks: _Acks) -> mqtt.Client:
    where = settings.describe()
    # paho's background connect hides the reason; one plain connection (and handshake) tells it
    if (why := unreachable(settings, plan.connect_timeout_s)) is not None:
        raise BrokerUnreachable(f"cannot reach the MQTT broker at {where}: {why}")
    client = make_client(settings, settings.client_id or f"shopfloor-load-{uuid.uuid4().hex[:8]}")
    client.max_inflight_messages_set(plan.inflight)
    client.on_connect, client.on_publish = acks.on_connect, acks.on_publish
    connect(client, settings, session_expiry_s=0)
    client.loop_start()
    if not acks.connected.wait(plan.connect_timeout_s) or acks.refused:
        client.loop_stop()
        why = acks.refused or f"no CONNACK within {plan.connect_timeout_s:g} s"
        raise BrokerUnreachable(f"the MQTT broker at {where} did not let us in: {why}")
    return client


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
    acks = _Acks()
    client = _open(plan, settings, acks)
    window = max(1, min(plan.inflight, acks.receive_maximum if plan.qos else plan.inflight))
    total = plan.messages
    end = None if total is not None else plan.duration_s or DEFAULT_DURATION_S
    task = progress.add_task("publishing", total=total or end) if progress else None
    sent: dict[int, float] = {}
    latencies = array("d")
    published = acked = nacked = refused = 0
    window_full_s = generate_s = 0.0
    refused_rc: set[int] = set()

    def drain() -> None:
        nonlocal acked, nacked
        while acks.queue:
            mid, at, failure = acks.queue.popleft()
            started = sent.pop(mid, None)
            if failure:
                nacked += 1
            else:
                acked += 1
                if started is not None and plan.qos:
                    latencies.append(at - started)

    start, cpu_start = time.perf_counter(), time.process_time()
    bucket = TokenBucket(plan.target_rate, plan.target_rate * BURST_S, start)
    shown = start
    try:
        while not stop.is_set():
            now = time.perf_counter()
            if (total is not None and published + refused >= total) or (
                end is not None and now - start >= end
            ):
                break
            drain()
            room = window - (published - acked - nacked)
            left = MAX_BATCH if total is None else total - published - refused
            n = bucket.take(now, min(room, left, MAX_BATCH))
            if n == 0:
                pause = 0.0005 if room <= 0 else min(bucket.wait(), 0.005)
                if room <= 0:
                    window_full_s += pause
                time.sleep(pause)
            else:
                t0 = time.perf_counter()
                now_ms = time.time_ns() // 1_000_000
                batch = [readings.next(now_ms) for _ in range(n)]
                generate_s += time.perf_counter() - t0
                for topic, payload in batch:
                    t = time.perf_counter()
                    info = client.publish(topic, payload, qos=plan.qos)
                    # QoS 1 while reconnecting: paho keeps the message and sends it once back
                    if info.rc == mqtt.MQTT_ERR_SUCCESS or (
                        plan.qos and info.rc == mqtt.MQTT_ERR_NO_CONN
                    ):
                        published += 1
                        sent[info.mid] = t
                    else:
                        refused += 1
                        if info.rc not in refused_rc:
                            refused_rc.add(info.rc)
                            log.warning("publish refused: %s", mqtt.error_string(info.rc))
            if progress is not None and task is not None and now - shown >= 0.1:
                shown = now
                rate = published / (now - start) if now > start else 0.0
                progress.update(
                    task,
                    completed=published + refused if total is not None else now - start,
                    description=f"{published:,} sent, {rate:,.0f} msg/s, "
                    f"{published - acked - nacked} in flight",
                )
    finally:
        duration = time.perf_counter() - start
        cpu_s = time.process_time() - cpu_start
        if progress is not None and task is not None:
            progress.update(task, completed=published + refused if total else duration)
        deadline = time.perf_counter() + plan.drain_timeout_s
        drain()
        while published - acked - nacked > 0 and time.perf_counter() < deadline:
            time.sleep(0.01)
            drain()
        drain_s = time.perf_counter() - start - duration
        client.disconnect()
        client.loop_stop()
        drain()
    return LoadSummary(
        machines=plan.machines,
        qos=plan.qos,
        target_rate=plan.target_rate,
        published=published,
        acknowledged=acked,
        refused=refused,
        nacked=nacked,
        unacknowledged=published - acked - nacked,
        duration_s=duration,
        drain_s=drain_s,
        values_per_reading=readings.values_per_reading,
        window=window,
        window_full_s=window_full_s,
        cpu_s=cpu_s,
        generate_s=generate_s,
        latency_p50_ms=_ms(percentile(latencies, 0.50)),
        latency_p99_ms=_ms(percentile(latencies, 0.99)),
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
