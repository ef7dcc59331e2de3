"""Line protocol as strings vs influxdb-client's Point; and the converter vs a pydantic baseline.

The converter part feeds the same MQTT payloads (one reading per message, and arrays of 100)
to `gateway.convert.Converter` and to the pydantic path it replaced (`parse_telemetry` +
`telemetry_line`). Run: `.venv/bin/python -m launcher.bench.bench_points [N]`; the last line
is JSON.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from influxdb_client.client.write.point import Point
from influxdb_client.domain.write_precision import WritePrecision

from gateway.convert import Converter
from gateway.points import telemetry_line
from shopfloor.contract.payloads import TelemetryReading, parse_telemetry
from shopfloor.contract.topics import DEFAULT_TEMPLATE, TopicTemplate

TAGS = {"site": "plant1", "line": "line1", "machine": "cnc-1"}
T = TypeVar("T")
TOPIC = "shopfloor/plant1/line1/cnc-1/telemetry"
VALUES = {"spindle_temp_c": 41.5, "vibration_mm_s": 2.5, "power_kw": 7.5, "spindle_load_pct": 55}


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
        p = Point("telemetry")  # type: ignore[no-untyped-call]
        for tag, text in TAGS.items():
            p = p.tag(tag, text)  # type: ignore[no-untyped-call]
        for name, value in r.values.items():
            p = p.field(name, float(value))  # type: ignore[no-untyped-call]
        point = p.time(r.ts, WritePrecision.NS)  # type: ignore[no-untyped-call]
        out.append(point.to_line_protocol())
    return out


def best_rate(fn: Callable[[list[T]], object], batch: list[T], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(batch)
        best = min(best, time.perf_counter() - t0)
    return len(batch) / best


def payloads(n: int, per_message: int, rfc3339: bool) -> list[bytes]:
    """`n` readings as messages of `per_message` readings; ts as epoch ms or RFC 3339 text."""
    t0 = datetime.now(UTC) - timedelta(hours=1)
    out = []
    for m in range(n // per_message):
        items = []
        for k in range(per_message):
            ts = t0 + timedelta(milliseconds=m * per_message + k)
            stamp: object = ts.isoformat() if rfc3339 else int(ts.timestamp() * 1000)
            items.append({"ts": stamp, "values": VALUES})
        out.append(json.dumps(items[0] if per_message == 1 else items).encode())
    return out


def convert_new(messages: list[bytes]) -> int:
    converter = Converter(TopicTemplate(DEFAULT_TEMPLATE), 1 << 20)
    arrival = datetime.now(UTC)
    return sum(len(converter.convert(TOPIC, m, arrival)) for m in messages)


def convert_old(messages: list[bytes]) -> int:
    """The converter before issue 3: pydantic models, then one line per reading."""
    arrival = datetime.now(UTC)
    tags = dict(TAGS)
    return sum(
        len([telemetry_line(tags, r, arrival) for r in parse_telemetry(m, 1 << 20)])
        for m in messages
    )


def convert_rates(n: int) -> dict[str, int]:
    """Readings/s through both converters, per payload shape."""
    rates = {}
    for shape, per, rfc in (("1_ms", 1, False), ("100_ms", 100, False), ("1_rfc3339", 1, True)):
        messages = payloads(n, per, rfc)
        assert convert_new(messages[:20]) == convert_old(messages[:20])
        rates[f"convert_{shape}_rps"] = round(best_rate(convert_new, messages) * per)
        rates[f"pydantic_{shape}_rps"] = round(best_rate(convert_old, messages) * per)
    return rates


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
    rates = convert_rates(n)
    for shape in ("1_ms", "100_ms", "1_rfc3339"):
        new, old = rates[f"convert_{shape}_rps"], rates[f"pydantic_{shape}_rps"]
        print(
            f"converter {shape:<10}: {new:>10,} readings/s "
            f"(pydantic path {old:>9,}, x{new / old:.1f})"
        )
    print(
        json.dumps(
            {
                "bench": "points",
                "n": n,
                "strings_pps": round(ours_rate),
                "point_pps": round(base_rate),
                "ratio": round(ours_rate / base_rate, 2),
                **rates,
            }
        )
    )


if __name__ == "__main__":
    main()
