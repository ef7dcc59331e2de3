"""`shopfloor bench telemetry`: a week of one machine's telemetry read for its chart.

--days of --channels channels at --rate Hz for one machine (a week of 10 channels at 1 Hz by
default: 604,800 points, 6 million values) are written through the gateway's own sinks to an
InfluxDB 1.x (`influxd` started here, or --influx-url) and to the embedded SQLite store, then
read back for a chart of --points points per channel through the tracker's telemetry
interface (`tracker/adapters/telemetry`), --repeats times (the median counts). Beside each,
the baseline: the same week read raw, unaggregated, once. The last line is JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import httpx

from gateway.points import series_key
from gateway.settings import InfluxSettings
from gateway.sinks import InfluxV1Sink, SqliteSink
from launcher.services.influx import run_influxdb1
from shopfloor.telemetry_store import (
    TELEMETRY_MEASUREMENT,
    influx_rollup_backfill,
    influx_rollup_query,
    telemetry_fields,
)
from tracker.adapters.telemetry import make_telemetry_store
from tracker.domain.telemetry import TelemetryQuery
from tracker.settings import TelemetrySettings

from .running import measured, progress

MACHINE = "weld-1"
TARGET_MS = 300.0
START = datetime(2026, 3, 2, tzinfo=UTC)
BATCH = 5000


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The bench's command line."""
    parser = argparse.ArgumentParser(prog="shopfloor bench telemetry", description=__doc__)
    parser.add_argument("--days", type=float, default=7.0, help="the chart's range (7)")
    parser.add_argument("--channels", type=int, default=10, help="channels of the machine (10)")
    parser.add_argument("--rate", type=float, default=1.0, help="points per second (1)")
    parser.add_argument("--points", type=int, default=1000, help="chart points per channel")
    parser.add_argument("--repeats", type=int, default=7, help="chart reads per store (7)")
    parser.add_argument("--influx-url", help="an InfluxDB 1.x to use (default: start influxd)")
    return parser.parse_args(argv)


def lines(days: float, channels: int, rate: float) -> Iterator[list[str]]:
    """The machine's telemetry as the gateway writes it, in batches."""
    series = series_key(TELEMETRY_MEASUREMENT, {"site": "p1", "line": "l1", "machine": MACHINE})
    step_ns, start_ns = int(1e9 / rate), int(START.timestamp()) * 1_000_000_000
    batch: list[str] = []
    for i in range(int(days * 86400 * rate)):
        fields = ",".join(f"c{c}={(i * (c + 1)) % 997 / 10}" for c in range(channels))
        batch.append(f"{series} {fields} {start_ns + i * step_ns}")
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _fill(sink: SqliteSink | InfluxV1Sink, args: argparse.Namespace) -> float:
    """Seconds to write the week through the sink."""
    sink.connect()
    began = time.perf_counter()
    try:
        for batch in lines(args.days, args.channels, args.rate):
            sink.write(batch)
    finally:
        sink.close()
    return time.perf_counter() - began


def _ms(read: Callable[[], object], repeats: int) -> float:
    """The median milliseconds of `repeats` calls, after one warm-up."""
    read()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        read()
        times.append(time.perf_counter() - began)
    return round(statistics.median(times) * 1000, 1)


def _raw_sqlite(path: Path, end: datetime) -> int:
    """The baseline: every line of the week read and parsed, no aggregation."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        rows = db.execute(
            "SELECT line FROM points WHERE measurement = ? AND time_ns >= ? AND time_ns < ?",
            (TELEMETRY_MEASUREMENT, int(START.timestamp() * 1e9), int(end.timestamp() * 1e9)),
        )
        return sum(1 for (line,) in rows if telemetry_fields(line) is not None)


def _raw_influx1(url: str, database: str, end: datetime) -> int:
    """The baseline: every point of the week read with InfluxQL, no aggregation."""
    q = (
        f"SELECT * FROM {TELEMETRY_MEASUREMENT} WHERE machine = '{MACHINE}'"
        f" AND time >= '{START.isoformat()}' AND time < '{end.isoformat()}'"
    )
    params = {"db": database, "q": q, "epoch": "s", "chunked": "true", "chunk_size": "50000"}
    rows = 0
    with httpx.stream("POST", f"{url}/query", params=params, timeout=600) as response:
        for chunk in response.iter_lines():
            for result in json.loads(chunk).get("results", []):
                rows += sum(len(s["values"]) for s in result.get("series", []))
    return rows


@contextlib.contextmanager
def _influx1(args: argparse.Namespace, workdir: Path) -> Iterator[str]:
    """The InfluxDB 1.x URL: --influx-url, or an `influxd` started in `workdir`."""
    if args.influx_url:
        yield args.influx_url
        return
    (workdir / "influxdb1").mkdir()
    with run_influxdb1(workdir / "influxdb1") as server:
        yield server.url


def _timed(what: str, run: Callable[[], int]) -> tuple[float, int]:
    began = time.perf_counter()
    rows = run()
    ms = round((time.perf_counter() - began) * 1000, 1)
    progress(f"{what}: {rows:,} points in {ms:,.0f} ms")
    return ms, rows


def run(args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    """Fill both stores, then time the chart reads and the raw baselines."""
    end = START + timedelta(days=args.days)
    query = TelemetryQuery(MACHINE, START, end, None, args.points)
    path, database = workdir / "telemetry.db", f"bench_{secrets.token_hex(4)}"
    result: dict[str, object] = {
        "bench": "telemetry",
        "days": args.days,
        "channels": args.channels,
        "rate_hz": args.rate,
        "points": int(args.days * 86400 * args.rate),
        "chart_points": args.points,
        "bucket_s": query.bucket_s,
    }
    progress(f"writing {result['points']:,} points of {args.channels} channels to SQLite")
    result["sqlite_write_s"] = round(_fill(SqliteSink(path), args), 1)
    sqlite = make_telemetry_store(TelemetrySettings(kind="sqlite", sqlite_path=path))
    result["chart_week_ms_sqlite"] = _ms(lambda: sqlite.read(query), args.repeats)
    result["raw_week_ms_sqlite"], _ = _timed("SQLite raw", lambda: _raw_sqlite(path, end))
    with _influx1(args, workdir) as url:
        httpx.post(f"{url}/query", params={"q": f'CREATE DATABASE "{database}"'}).raise_for_status()
        progress(f"writing them to InfluxDB 1.x at {url}")
        settings = InfluxSettings(sink="influx1", url=url, database=database, timeout_s=120)
        result["influx1_write_s"] = round(_fill(InfluxV1Sink(settings), args), 1)
        result["influx1_rollup_s"] = _rollup_influx1(url, database, end)
        result.update(_read_influx1(url, database, query, args.repeats))
        result["raw_week_ms_influx1"], _ = _timed(
            "InfluxDB 1.x raw", lambda: _raw_influx1(url, database, end)
        )
    return result


def _rollup_influx1(url: str, database: str, end: datetime) -> float:
    """Seconds to create the rollup's continuous query and fill the week (docs/mqtt.md)."""
    began = time.perf_counter()
    end_ns = int(end.timestamp()) * 1_000_000_000
    for q in (influx_rollup_query(database), influx_rollup_backfill(0, end_ns)):
        params = {"db": database, "q": q}
        httpx.post(f"{url}/query", params=params, timeout=600).raise_for_status()
    return round(time.perf_counter() - began, 1)


def _read_influx1(
    url: str, database: str, query: TelemetryQuery, repeats: int
) -> dict[str, object]:
    """The chart read from the rollup (SHOPFLOOR_TELEMETRY__INFLUX_ROLLUP) and from the points."""
    result: dict[str, object] = {}
    for rollup, key in ((True, "chart_week_ms_influx1"), (False, "chart_week_ms_influx1_points")):
        settings = TelemetrySettings(
            kind="influx1", url=url, database=database, timeout_s=120, influx_rollup=rollup
        )
        store = make_telemetry_store(settings)
        answer = store.read(query)
        result[key.replace("chart_week_ms", "chart_samples")] = sum(
            len(s) for s in answer.channels.values()
        )
        result[key] = _ms(partial(store.read, query), repeats)
        store.close()
    return result


def table(result: dict[str, object]) -> str:
    """The side-by-side table: chart read against the raw baseline, per store."""
    rows = [
        f"{result['points']:,} points x {result['channels']} channels, chart of"
        f" {result['chart_points']} points per channel (bucket {result['bucket_s']} s)",
        f"{'store':28s} {'chart read':>12s} {'raw read':>12s} {'write':>10s}",
    ]
    for name, key, chart_key in (
        ("InfluxDB 1.x, rollup", "influx1", "chart_week_ms_influx1"),
        ("InfluxDB 1.x, points", "influx1", "chart_week_ms_influx1_points"),
        ("SQLite (its rollup)", "sqlite", "chart_week_ms_sqlite"),
    ):
        chart, raw = result[chart_key], result[f"raw_week_ms_{key}"]
        rows.append(
            f"{name:28s} {chart:>9} ms {raw:>9} ms {result[f'{key}_write_s']:>8} s"
            f"  {'ok' if float(str(chart)) < TARGET_MS else 'OVER'} (target < {TARGET_MS:g} ms)"
        )
    rows.append(
        f"InfluxDB 1.x rollup: continuous query and backfill {result['influx1_rollup_s']} s"
    )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench; the table, then the JSON line, on stdout."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="bench-telemetry-") as workdir:
        result = measured(lambda: run(args, Path(workdir)))
    sys.stdout.write(table(result) + "\n" + json.dumps(result) + "\n")
    return 0
