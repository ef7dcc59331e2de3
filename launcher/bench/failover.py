"""`shopfloor bench failover`: how long the tracker's singleton duties are without a leader.

Two `shopfloor tracker` processes on a fresh PostgreSQL database and a Mosquitto of the bench's
own, sharing the machine events; --kills times, the leader is killed (SIGKILL: no goodbye to
the database) and the time until the other instance's /readyz says `leader` is measured; the
killed one is started again and waits as the follower. The figure is the median, against the
leadership setting (SHOPFLOOR_LEADERSHIP_TIMEOUT_S); the last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from launcher.services.mosquitto import run_mosquitto
from launcher.services.postgres import fresh_postgres_database, postgres_server_url
from tracker.adapters.migrations import upgrade
from tracker.settings import TrackerSettings

from .tracker_pair import TrackerProcess, tracker_env

DEFAULT_TIMEOUT_S = float(TrackerSettings.model_fields["leadership_timeout_s"].default)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="shopfloor bench failover", description=__doc__.split("\n")[0])
    p.add_argument("--kills", type=int, default=5, help="leaders killed (the median is reported)")
    p.add_argument(
        "--leadership-timeout-s",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help="SHOPFLOOR_LEADERSHIP_TIMEOUT_S of both instances (default: the setting's)",
    )
    p.add_argument("--pg-server", default=postgres_server_url(), help="PostgreSQL server URL")
    args = p.parse_args(argv)
    if args.kills < 1 or args.leadership_timeout_s < 1:
        p.error("--kills must be >= 1 and --leadership-timeout-s >= 1")
    return args


def _both_up(pair: list[TrackerProcess], timeout_s: float = 120) -> tuple[int, int]:
    """Wait for one leader and one follower; (index of the leader, of the follower)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        roles = [p.role() for p in pair]
        if sorted(r or "" for r in roles) == ["follower", "leader"]:
            leader = roles.index("leader")
            return leader, 1 - leader
        time.sleep(0.2)
    raise RuntimeError("no leader and follower:\n" + pair[0].log()[-2000:])


def measure(args: argparse.Namespace, workdir: Path) -> list[float]:
    """Seconds from each kill to the other instance leading."""
    key, run = secrets.token_urlsafe(24), secrets.token_hex(3)
    times: list[float] = []
    with run_mosquitto(workdir) as broker, fresh_postgres_database(args.pg_server) as url:
        upgrade(url)
        settings = {"leadership_timeout_s": str(args.leadership_timeout_s)}
        pair = [
            TrackerProcess(
                name,
                tracker_env(url, broker.host, broker.port, key, f"bench-{name}-{run}", **settings),
                workdir,
            )
            for name in ("a", "b")
        ]
        try:
            starting = [threading.Thread(target=p.start_until_up) for p in pair]
            for thread in starting:
                thread.start()
            for thread in starting:
                thread.join()
            for i in range(args.kills):
                leader, follower = _both_up(pair)
                pair[leader].kill()
                took = pair[follower].wait_role("leader", args.leadership_timeout_s * 3, 0.02)
                times.append(took)
                print(
                    f"kill {i + 1}: {pair[leader].name} killed, {pair[follower].name} leads "
                    f"after {took:.2f} s",
                    flush=True,
                )
                pair[leader].start()
        finally:
            for process in pair:
                process.stop()
    return times


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="shopfloor-bench-") as tmp:
        times = measure(args, Path(tmp))
    median = statistics.median(times)
    ratio = median / args.leadership_timeout_s
    print(
        f"failover: median {median:.2f} s of {len(times)} kills (max {max(times):.2f} s), "
        f"setting {args.leadership_timeout_s:g} s, ratio {ratio:.2f}"
    )
    result = {
        "bench": "failover",
        "kills": len(times),
        "leadership_timeout_s": args.leadership_timeout_s,
        "failover_s": [round(t, 3) for t in times],
        "failover_s_median": round(median, 3),
        "failover_s_max": round(max(times), 3),
        "ratio_to_setting": round(ratio, 3),
    }
    print(json.dumps(result))
    sys.stdout.flush()
    return 0
