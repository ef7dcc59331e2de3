"""Line protocol built as strings (gateway/points.py) vs influxdb-client's Point, same readings.

Run: `.venv/bin/python -m bench.bench_points [N]`; the last line is one JSON object.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta

from influxdb_client import Point, WritePrecision

from gateway.points import telemetry_line
from shopfloor.contract.payloads import TelemetryReading

TAGS = {"site": "plant1", "line": "line1", "machine": "cnc-1"}


def readings(n: int) -> list[TelemetryReading]:
    t0 = datetime(2026, 3, 2, tzinfo=UTC)
    return [
        TelemetryReading(
            ts=t0 + timedelta(milliseconds=i),
            values={
                "spindle_temp_c": 40.0 + i % 7,
                "vibration_mm_s": 2.5,
                "power_kw": 7.5,
                "spindle_load_pct": 55.0,
            },
        )
        for i in range(n)
    ]


def ours(batch: list[TelemetryReading]) -> list[str]:
    arrival = datetime.now(UTC)
    return [telemetry_line(TAGS, r, arrival) for r in batch]


def baseline(batch: list[TelemetryReading]) -> list[str]:
    out = []
    for r in batch:
        p = Point("telemetry")
        for k, v in TAGS.items():
            p = p.tag(k, v)
        for k, v in r.values.items():
            p = p.field(k, float(v))
        out.append(p.time(r.ts, WritePrecision.NS).to_line_protocol())
    return out


def best_rate(fn: object, batch: list[TelemetryReading], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(batch)  # type: ignore[operator]
        best = min(best, time.perf_counter() - t0)
    return len(batch) / best


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    batch = readings(n)
    a, b = ours(batch[:50]), baseline(batch[:50])
    # same points, so the comparison is fair (fields in the same order, same timestamps)
    assert [line.split(" ")[0] for line in a] == [line.split(" ")[0] for line in b]
    assert [line.rsplit(" ", 1)[1] for line in a] == [line.rsplit(" ", 1)[1] for line in b]
    ours_rate, base_rate = best_rate(ours, batch), best_rate(baseline, batch)
    print(f"line protocol strings : {ours_rate:>10,.0f} points/s")
    print(f"influxdb_client.Point : {base_rate:>10,.0f} points/s")
    print(
        json.dumps(
            {
                "bench": "points",
                "n": n,
                "strings_pps": round(ours_rate),
                "point_pps": round(base_rate),
                "ratio": round(ours_rate / base_rate, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
