"""The simulator's load mode: N machines x M telemetry readings a second, paced, for benchmarks."""

from __future__ import annotations

import argparse
import logging
import random
import signal
import socket
import sys
import threading
import time
import uuid
from array import array
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shopfloor.contract.topics import DEFAULT_TEMPLATE, FIELD, TELEMETRY, TopicTemplate
from shopfloor.mqtt import MqttSettings, connect, make_client, parse_broker_url

from .models import MODELS, RUNNING

log = logging.getLogger(__name__)

DEFAULT_DURATION_S = 10.0
BURST_S = 0.05  # the pacer saves up at most this much of the schedule: no catch-up bursts
MAX_BATCH = 1000  # messages generated and published between two looks at the clock
POOL = 64  # noisy value sets pre-encoded per machine, used in turn
REACHED = 0.98  # share of the target rate that counts as reaching it
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # stop early, still wait for acks and report
CPU_BOUND = 0.85  # CPU seconds a second that say the client itself is the limit


class BrokerUnreachable(ConnectionError):
    """The broker did not accept our connection; the message names host:port."""


@dataclass(frozen=True)
class LoadPlan:
    """What to publish: how many machines, how fast, for how long, where."""

    machines: int = 10
    rate: float = 10.0  # readings a second per machine
    duration_s: float | None = None  # run this long, or until `messages` are published
    messages: int | None = None
    qos: int = 1
    site: str = "plant1"
    line: str = "line1"
    template: str = DEFAULT_TEMPLATE
    seed: int = 1
    inflight: int = 100  # QoS 1 messages awaiting PUBACK, at most (lower if the broker says so)
    drain_timeout_s: float = 30.0  # how long to wait for the last PUBACKs
    connect_timeout_s: float = 10.0

    @property
    def target_rate(self) -> float:
        """Messages a second over all machines (one reading per message)."""
        return self.machines * self.rate


@dataclass(frozen=True)
class LoadSummary:
    """What a load run did; at QoS 0 `acknowledged` counts messages written to the socket."""

    machines: int
    qos: int
    target_rate: float
    published: int  # accepted by the client
    acknowledged: int
    refused: int  # refused by the client at publish (never sent)
    nacked: int  # PUBACK with a failure reason code (MQTT 5)
    unacknowledged: int  # published but no PUBACK (or no write, QoS 0) by the end
    duration_s: float  # the publishing phase
    drain_s: float  # waiting for the last acknowledgements
    values_per_reading: float
    window: int  # messages awaiting acknowledgement, at most (QoS 1: PUBACKs)
    window_full_s: float  # time the in-flight window was full (waiting for acknowledgements)
    cpu_s: float  # CPU time of this process (both threads) while publishing
    generate_s: float  # time spent building payloads
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None

    @property
    def failed(self) -> int:
        return self.refused + self.nacked + self.unacknowledged

    @property
    def achieved_rate(self) -> float:
        """Messages (= readings) a second published."""
        return self.published / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def rate_reached(self) -> bool:
        return self.achieved_rate >= REACHED * self.target_rate

    @property
    def limit(self) -> str:
        """What held the rate back, when it fell short."""
        busy = self.cpu_s / self.duration_s if self.duration_s > 0 else 0.0
        # paho's network thread and ours share one interpreter: about one core is the ceiling
        if busy >= CPU_BOUND:
            return f"this client: one Python process, {busy:.0%} CPU"
        full = self.window_full_s / self.duration_s if self.duration_s > 0 else 0.0
        return (
            f"the broker's acknowledgements: the in-flight window of {self.window} "
            f"was full {full:.0%} of the time"
        )


class TokenBucket:
    """Paces sends at `rate` a second; at most `burst` tokens are saved up, the rest missed."""

    def __init__(self, rate: float, burst: float, start: float) -> None:
        self.rate, self.burst = rate, max(1.0, burst)
        self.tokens, self.last, self.missed = 0.0, start, 0.0

    def take(self, now: float, most: int) -> int:
        """How many messages may go out at `now` (no more than `most`); they are spent."""
        self.tokens += (now - self.last) * self.rate
        self.last = now
        if self.tokens > self.burst:
            self.missed += self.tokens - self.burst
            self.tokens = self.burst
        n = max(0, min(int(self.tokens), most))
        self.tokens -= n
        return n

    def wait(self) -> float:
        """Seconds until the next whole token."""
        return max(0.0, (1.0 - self.tokens) / self.rate)


def machine_kinds(machines: int) -> list[tuple[str, str]]:
    """(machine id, kind) of each load machine: the kinds in turn, `load-cnc_mill-001`, ..."""
    kinds = list(MODELS)
    return [
        (f"load-{kinds[i % len(kinds)]}-{i + 1:03d}", kinds[i % len(kinds)])
        for i in range(machines)
    ]


def value_sets(kind: str, rng: random.Random, count: int = POOL) -> list[bytes]:
    """`count` pre-encoded `values` objects: each channel's RUNNING target plus its noise."""
    out = []
    for _ in range(count):
        fields = []
        for ch in MODELS[kind].channels:
            value = max(ch.minimum, rng.gauss(ch.target(RUNNING), ch.noise))
            fields.append(f'"{ch.name}":{float(round(value, ch.digits))!r}')
        out.append(("{" + ",".join(fields) + "}").encode())
    return out


class Readings:
    """Telemetry messages for the load machines in turn; each machine's `ts` always grows."""

    def __init__(self, plan: LoadPlan) -> None:
        template = TopicTemplate(plan.template)
        if FIELD in template.pattern:
            raise ValueError(f"topic template {plan.template!r} carries one value per topic")
        rng = random.Random(plan.seed)
        self.topics: list[str] = []
        self.pools: list[list[bytes]] = []
        for machine, kind in machine_kinds(plan.machines):
            segments = {"site": plan.site, "line": plan.line, "machine": machine}
            self.topics.append(template.topic(**segments, kind=TELEMETRY))
            self.pools.append(value_sets(kind, rng))
        self.last_ts = [0] * plan.machines
        self.values_per_reading = sum(p[0].count(b":") for p in self.pools) / plan.machines
        self._i = 0

    def next(self, now_ms: int) -> tuple[str, bytes]:
        """The next (topic, payload), stamped `now_ms` or just after that machine's last one."""
        i, n = self._i, len(self.topics)
        machine = i % n
        ts = max(now_ms, self.last_ts[machine] + 1)
        self.last_ts[machine] = ts
        self._i = i + 1
        pool = self.pools[machine]
        return self.topics[machine], b'{"ts":%d,"values":%b}' % (ts, pool[(i // n) % len(pool)])


def percentile(values: Sequence[float], q: float) -> float | None:
    """The `q` quantile (0..1) by nearest rank, or None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


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
    where = f"{settings.host}:{settings.port}"
    try:  # paho's background connect hides the reason; one plain TCP connection tells it
        socket.create_connection((settings.host, settings.port), plan.connect_timeout_s).close()
    except OSError as exc:
        raise BrokerUnreachable(f"cannot reach the MQTT broker at {where}: {exc}") from None
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


def summary_table(s: LoadSummary) -> Table:
    """The summary as a two-column table."""
    per_machine = s.achieved_rate / s.machines if s.machines else 0.0
    rows = [
        ("machines", f"{s.machines}"),
        ("QoS", f"{s.qos}" + (f", in flight at most {s.window}" if s.qos else "")),
        ("target rate", f"{s.target_rate:,.0f} msg/s"),
        (
            "achieved rate",
            f"{s.achieved_rate:,.0f} msg/s = readings/s ({per_machine:,.1f}/machine)",
        ),
        ("values", f"{s.achieved_rate * s.values_per_reading:,.0f} values/s"),
        ("published", f"{s.published:,}"),
        ("acknowledged" if s.qos else "written (QoS 0)", f"{s.acknowledged:,}"),
        (
            "failed",
            f"{s.failed:,} (refused {s.refused}, nacked {s.nacked}, "
            f"unacknowledged {s.unacknowledged})",
        ),
        ("duration", f"{s.duration_s:.2f} s + {s.drain_s:.2f} s for the last acks"),
        ("client CPU", f"{s.cpu_s / s.duration_s:.0%} of a core" if s.duration_s else "-"),
        (
            "payload generation",
            f"{s.generate_s / max(1, s.published) * 1e6:.2f} us/msg "
            f"({s.generate_s / s.duration_s:.1%} of the run)"
            if s.duration_s
            else "-",
        ),
    ]
    if s.latency_p50_ms is not None and s.latency_p99_ms is not None:
        rows.append(
            ("publish to PUBACK", f"p50 {s.latency_p50_ms:.1f} ms, p99 {s.latency_p99_ms:.1f} ms")
        )
    table = Table(title="shopfloor sim load", show_header=False)
    for name, value in rows:
        table.add_row(name, value)
    return table


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
        host, port = parse_broker_url(args.broker)
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
    settings = MqttSettings(host=host, port=port, protocol=args.mqtt_protocol)
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
