"""`shopfloor bench api`: customers polling their order's progress, next to FastAPI's ceiling.

The tracker is the product's `shopfloor tracker` (uvicorn as the CLI runs it) on a free port,
with --orders open orders imported through the bus before it starts (their access tokens kept)
and one trivial route added (`bench/api_server.py`). wrk (C) drives --connections keep-alive
connections in a closed loop, each request polling another order's progress with its Bearer
token; in the same run and on the same server: the trivial route (the framework's ceiling), an
`async def` trivial route, and, once the server sends ETags, polls with `If-None-Match` of each
order's current ETag (304s). The server and wrk are pinned to one core each. The last line is JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

from .api_load import Load, Wrk
from .api_report import NO_ETAG_NOTE, summary, table, targets
from .api_seed import Poller, seed_orders, write_pollers
from .api_server import CEILING, CEILING_ASYNC, Server, tracker_server
from .broker import Broker
from .running import measured, progress
from .servers import executable, mosquitto
from .tracker_databases import fresh_postgres, fresh_sqlite

# every poller comes from 127.0.0.1, where customers come from many addresses: the rate limiter
# still does its bookkeeping on every request, but never refuses one (unknown settings are
# ignored, so this is harmless on a tracker without a limiter)
NO_REFUSALS = {
    f"SHOPFLOOR_PROGRESS_{kind}_PER_{who}": "1000000000"
    for kind in ("RATE", "BURST")
    for who in ("IP", "TOKEN")
}
ETAG_POOL = 1_000  # orders whose ETag is read first, then polled with If-None-Match
PACED_SHARE = 0.5  # the paced pollers ask for this share of the saturated progress rate


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The bench's command line."""
    p = argparse.ArgumentParser(prog="shopfloor bench api", description=__doc__.split("\n")[0])
    p.add_argument("--orders", type=int, default=10_000, help="open orders in the database")
    p.add_argument(
        "--imported",
        type=int,
        default=1_000,
        help="orders imported through the bus; the others are SQL copies of them (fast)",
    )
    p.add_argument("--machines", type=int, default=50, help="machines the orders are routed over")
    p.add_argument("--connections", type=int, default=200, help="concurrent pollers (wrk -c)")
    p.add_argument("--duration-s", type=int, default=6, help="seconds of each measured case")
    p.add_argument("--warmup-s", type=int, default=1, help="unmeasured seconds before each case")
    p.add_argument(
        "--database-url",
        default=None,
        help="a PostgreSQL server URL: a fresh database is made on it and dropped afterwards "
        "(default: a fresh SQLite file)",
    )
    p.add_argument(
        "--broker",
        default="embedded",
        help="mqtt://host:port, `embedded` (a Mosquitto on a free port) or `none`",
    )
    p.add_argument(
        "--check-interval-s",
        type=float,
        default=3600.0,
        help="the tracker's replan-and-check interval (SHOPFLOOR_CHECK_INTERVAL_S; production: "
        "30, a ~1 s replan of every open order that would land in one case and not the others)",
    )
    p.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="after the measured cases, poll progress once more under `py-spy record` to this "
        "file (.svg: flame graph, .json: speedscope)",
    )
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    if min(args.orders, args.imported, args.machines, args.connections, args.duration_s) < 1:
        p.error("--orders, --imported, --machines, --connections and --duration-s must be >= 1")
    if args.warmup_s < 0:
        p.error("--warmup-s must be >= 0")
    return args


def _on_sqlite(args: argparse.Namespace) -> bool:
    url: str | None = args.database_url
    return url is None or url.startswith("sqlite")


@contextlib.contextmanager
def database(args: argparse.Namespace, workdir: Path) -> Iterator[str]:
    """A fresh migrated database: a SQLite file, or one on the given PostgreSQL server."""
    if _on_sqlite(args):
        with fresh_sqlite(workdir) as fresh:
            yield fresh
    else:
        with fresh_postgres(args.database_url) as fresh:
            yield fresh


@contextlib.contextmanager
def broker(choice: str, workdir: Path) -> Iterator[Broker | None]:
    """The tracker's broker: a Mosquitto of our own, the given one, or none at all."""
    if choice == "none":
        yield None
    elif choice == "embedded":
        with mosquitto(workdir) as url:
            yield Broker.from_url(url)
    else:
        yield Broker.from_url(choice)


def cpu_split() -> tuple[set[int], set[int]]:
    """One core for the server, another for wrk (the same one if there is only one)."""
    cpus = sorted(os.sched_getaffinity(0))
    return {cpus[0]}, {cpus[1] if len(cpus) > 1 else cpus[0]}


def with_etags(server: Server, pollers: list[Poller]) -> list[Poller]:
    """Poll each order once; keep the ETag it answers with (none: an empty list)."""
    out: list[Poller] = []
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for p in pollers:
            r = client.get(
                f"/api/v1/orders/{p.order_id}/progress",
                headers={"Authorization": f"Bearer {p.token}"},
            )
            if r.status_code != 200:
                raise RuntimeError(f"progress of {p.order_id}: {r.status_code} {r.text[:300]}")
            etag = r.headers.get("etag")
            if etag is None:
                return []
            out.append(Poller(p.order_id, p.token, etag))
    return out


def measure(
    wrk: Wrk,
    args: argparse.Namespace,
    name: str,
    mode: str,
    path: str = "",
    wanted: int = 200,
    think_ms: int = 0,
) -> Load:
    """A warm-up run (not counted), then the measured one."""
    progress(f"{name} ({args.connections} connections, {args.duration_s} s) ...")
    if args.warmup_s:
        wrk.run(name, mode, args.warmup_s, path, wanted, think_ms)
        wrk.runs.pop()
    return wrk.run(name, mode, args.duration_s, path, wanted, think_ms)


def profile(wrk: Wrk, args: argparse.Namespace, out: Path) -> None:
    """Poll progress once more while py-spy samples the server (not counted)."""
    py_spy = Path(sys.executable).with_name("py-spy")
    fmt = "speedscope" if out.suffix == ".json" else "flamegraph"
    # --nonblocking: stopping the server 100 times a second to read its stacks would slow it
    # ten-fold; without --idle only threads on a CPU are sampled (threads waiting for the GIL
    # sleep in the kernel and are left out), so the samples say where the CPU time goes
    argv = [str(py_spy), "record", "--pid", str(wrk.server_pid), "--threads", "--nonblocking"]
    argv += ["--duration", str(args.duration_s), "--format", fmt, "--output", str(out)]
    progress(f"profiling the server with py-spy while polling progress -> {out} ...")
    spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wrk.run("progress (under py-spy)", "progress", args.duration_s)
    finally:
        _, err = spy.communicate(timeout=args.duration_s + 60)
    if spy.returncode != 0:
        progress(f"py-spy failed ({spy.returncode}): {err.decode(errors='replace')[-500:]}")


def measure_cases(
    wrk: Wrk, args: argparse.Namespace, tagged: list[Poller], workdir: Path
) -> tuple[Load, Load, Load | None, Load, Load]:
    """Each case on the running server: the ceiling, progress, 304s, paced, the async ceiling."""
    ceiling = measure(wrk, args, f"ceiling: GET {CEILING}", "plain", CEILING)
    polled = measure(wrk, args, "progress (Bearer token)", "progress")
    not_modified = None
    if tagged:
        wrk.pollers_file = write_pollers(tagged, workdir / "etags.tsv")
        not_modified = measure(wrk, args, "progress, If-None-Match", "not_modified", "", 304)
        wrk.pollers_file = workdir / "pollers.tsv"
    # the same pollers pausing between polls, for half the rate just measured: the latency of a
    # poll when the server is not saturated (Little's law makes the saturated p50 ~ connections
    # / rate whatever a poll costs)
    think_ms = round(1000 * args.connections / max(polled.rps * PACED_SHARE, 1.0))
    paced = measure(
        wrk, args, f"progress, {think_ms} ms between polls", "progress", think_ms=think_ms
    )
    ceiling_async = measure(wrk, args, f"ceiling: GET {CEILING_ASYNC}", "plain", CEILING_ASYNC)
    if args.profile:
        profile(wrk, args, args.profile.resolve())
    return ceiling, polled, not_modified, paced, ceiling_async


def run(args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    """Seed, start the server, measure every case; print the table; return the JSON summary."""
    executable("wrk")  # fail before seeding when it is missing
    server_cpus, client_cpus = cpu_split()
    with database(args, workdir) as url, broker(args.broker, workdir) as mqtt:
        progress(f"importing {args.orders:,} orders ...")
        t0 = time.perf_counter()
        pollers = seed_orders(url, args.orders, args.imported, args.machines, args.seed)
        seed_s = time.perf_counter() - t0
        progress(f"starting the tracker (it plans {args.orders:,} open orders first) ...")
        settings = {"SHOPFLOOR_CHECK_INTERVAL_S": str(args.check_interval_s), **NO_REFUSALS}
        log_path = workdir / "tracker.log"
        t0 = time.perf_counter()
        with tracker_server(url, mqtt, server_cpus, log_path, settings) as server:
            start_s = time.perf_counter() - t0
            tagged = with_etags(server, pollers[:ETAG_POOL])
            wrk = Wrk.prepare(
                server.url,
                write_pollers(pollers, workdir / "pollers.tsv"),
                args.connections,
                client_cpus,
                server.pid,
            )
            ceiling, polled, not_modified, paced, ceiling_async = measure_cases(
                wrk, args, tagged, workdir
            )
            tracebacks = log_path.read_text(errors="replace").count("Traceback")
    db = "sqlite" if _on_sqlite(args) else "postgres"
    print(
        f"shopfloor bench api: {args.orders:,} open orders ({db}), {args.connections} "
        f"connections, {args.duration_s} s per case after {args.warmup_s} s of warm-up; server "
        f"on CPU {sorted(server_cpus)}, wrk on CPU {sorted(client_cpus)}"
    )
    print(table(wrk.runs))
    if not_modified is None:
        print(f"304 case: {NO_ETAG_NOTE}")
    extra: dict[str, object] = {
        "ceiling_async_rps": round(ceiling_async.rps),
        "orders": args.orders,
        "connections": args.connections,
        "duration_s": args.duration_s,
        "database": db,
        "seed_s": round(seed_s, 2),
        "server_start_s": round(start_s, 2),
        "server_cpus": sorted(server_cpus),
        "wrk_cpus": sorted(client_cpus),
        "server_tracebacks": tracebacks,
        "loadavg_1m_end": round(os.getloadavg()[0], 2),
    }
    result = summary(ceiling, polled, not_modified, paced, extra)
    print(
        f"progress / ceiling = {result['progress_vs_ceiling']}, "
        f"304 / ceiling = {result['not_modified_vs_ceiling']}, "
        f"async ceiling / ceiling = {round(ceiling_async.rps / max(ceiling.rps, 1e-9), 3)}"
    )
    print(targets(result))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for `shopfloor bench api` and `python -m launcher.bench.api`."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # importing the orders raises alerts for the late ones (a line each) and httpx logs every
    # request: neither is measured here (errors still show); the server logs as in production
    logging.getLogger("tracker").setLevel(logging.ERROR)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="shopfloor-bench-api-") as tmp:
        result = measured(lambda: run(args, Path(tmp)))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
