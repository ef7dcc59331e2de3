"""`shopfloor bench gateway`: the gateway against the broker's ceiling and a naive bridge, one run.

Every case drains a backlog that waits in a persistent session on the same broker and goes to
the same store; a reading counts once it can be queried there. The last line is JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from . import servers
from .broker import Broker
from .cases import NAIVE_MAX, STANDING_MAX, GatewayBench
from .gateway_mapped import mapped_case
from .gateway_sparkplug import sparkplug_case
from .report import Case, json_line, summary, table, targets
from .running import measured, progress
from .stores import make_store

# backlog + live messages must stay below what Mosquitto 2.0.11 delivers from one session
MAX_MESSAGES = 80_000
# the batched case sends N / BATCHED_SHARE messages (25 x the readings at 100 per message), so
# its ~1 s of fixed latency (start, the final partial batch's flush) does not dominate the run
BATCHED_SHARE = 4


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The bench's command line."""
    p = argparse.ArgumentParser(prog="shopfloor bench gateway", description=__doc__.split("\n")[0])
    p.add_argument(
        "--messages",
        type=int,
        default=20_000,
        help=f"backlog size, one reading each (100 to {MAX_MESSAGES:,})",
    )
    p.add_argument(
        "--store",
        choices=["v1", "v2"],
        default="v1",
        help="v1: InfluxDB 1.x /write (influxd); v2: VictoriaMetrics via influxdb-client",
    )
    p.add_argument("--broker", help="mqtt://host:port (default: start Mosquitto)")
    p.add_argument(
        "--influx-url", help="the store's URL (default: start influxd or VictoriaMetrics)"
    )
    p.add_argument("--batched-size", type=int, default=100, help="readings per batched message")
    p.add_argument(
        "--backlog-check",
        type=int,
        default=0,
        metavar="N",
        help="also push N messages through a standing backlog; report peak RSS",
    )
    args = p.parse_args(argv)
    if not 100 <= args.messages <= MAX_MESSAGES:
        p.error(
            f"--messages must be 100 to {MAX_MESSAGES:,}: Mosquitto 2.0.11 stops delivering a "
            "session's queue past 131,070 QoS 1 messages (use --backlog-check for volume)"
        )
    if args.batched_size < 1 or args.backlog_check < 0:
        p.error("--batched-size must be >= 1 and --backlog-check >= 0")
    return args


def run(args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    """Start what is missing, run every case, print the table; return the JSON summary."""
    with contextlib.ExitStack() as stack:
        broker_url = args.broker
        if broker_url is None:
            (workdir / "mosquitto").mkdir()
            broker_url = stack.enter_context(servers.mosquitto(workdir / "mosquitto"))
        store_url = args.influx_url
        if store_url is None:
            (workdir / "store").mkdir()
            start = servers.influxdb1 if args.store == "v1" else servers.victoria
            store_url = stack.enter_context(start(workdir / "store"))
        store = make_store(args.store, store_url)
        store.prepare()
        bench = GatewayBench(Broker.from_url(broker_url), store, workdir)
        n, big = args.messages, args.backlog_check
        plan: list[tuple[str, Callable[[], Case]]] = [
            ("ceiling", lambda: bench.ceiling(n)),
            ("naive", lambda: bench.naive(min(n, NAIVE_MAX))),
            ("gateway", lambda: bench.gateway("backlog", n)),
            ("gateway_live", lambda: bench.gateway("live", n, live=n // 2)),
            (
                "gateway_batched",
                lambda: bench.gateway("batched", max(n // BATCHED_SHARE, 10), args.batched_size),
            ),
            ("sparkplug", lambda: sparkplug_case(bench, n)),
            ("mapped", lambda: mapped_case(bench, n)),
        ]
        if big:
            first = min(big, STANDING_MAX)
            plan.append(("backlog", lambda: bench.gateway("big-backlog", first, total=big)))
        cases: dict[str, Case] = {}
        for key, measure in plan:
            progress(f"{key} ...")
            cases[key] = measure()
            progress(f"{key}: {cases[key].rps:,.0f} readings/s in {cases[key].seconds:.2f} s")
    kind = "InfluxDB 1.x /write" if args.store == "v1" else "v2 write API (influxdb-client)"
    print(f"shopfloor bench gateway: store {args.store} ({kind}), {n:,} messages, same broker")
    print(table(list(cases.values())))
    load = os.getloadavg()[0]
    result = summary(cases, {"store": args.store, "messages": n, "loadavg_1m_end": round(load, 2)})
    result["sparkplug_rps"] = round(cases["sparkplug"].rps)  # Sparkplug B NDATA beside JSON
    result["mapped_rps"] = round(cases["mapped"].rps)  # one value per topic, mapped to events
    print(targets(result))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for `shopfloor bench gateway` and `python -m launcher.bench.gateway`."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per poll otherwise
    with tempfile.TemporaryDirectory(prefix="shopfloor-bench-") as tmp:
        result = measured(lambda: run(args, Path(tmp)))
    print(json_line(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
