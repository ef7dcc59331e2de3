"""The load mode's pure parts: the plan, pacing, payloads and the summary; no paho, no threads."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from rich.table import Table

from shopfloor.contract.topics import DEFAULT_TEMPLATE, FIELD, TELEMETRY, TopicTemplate

from .models import MODELS, RUNNING

POOL = 64  # noisy value sets pre-encoded per machine, used in turn
REACHED = 0.98  # share of the target rate that counts as reaching it
CPU_BOUND = 0.85  # CPU seconds a second that say the client itself is the limit


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
