"""The telemetry store's layout: measurement and tag names, and the embedded SQLite store's tables.

The gateway writes this layout (its SQLite sink, its InfluxDB lines) and the tracker reads it
(its machine charts); both take it from here, as neither may import the other.

The SQLite store keeps every point as its line in `points`, and, so that a week of one machine
reads in milliseconds, the per-machine sums of each float field in `telemetry_rollup` at a few
bucket widths (a chart's bucket is a multiple of one of them: mean = sum(total) / sum(n)).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

TELEMETRY_MEASUREMENT = "telemetry"
EVENT_MEASUREMENT = "events"
MACHINE_TAG = "machine"

# the rollup's bucket widths, seconds: a chart bucket of b seconds reads the widest that divides b
ROLLUP_WIDTHS_S = (1, 10, 60, 600)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS points"
    " (measurement TEXT NOT NULL, time_ns INTEGER NOT NULL, line TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS points_time ON points (measurement, time_ns)",
    "CREATE TABLE IF NOT EXISTS telemetry_rollup (machine TEXT NOT NULL, field TEXT NOT NULL,"
    " width_s INTEGER NOT NULL, bucket_ns INTEGER NOT NULL, total REAL NOT NULL,"
    " n INTEGER NOT NULL, PRIMARY KEY (machine, width_s, bucket_ns, field)) WITHOUT ROWID",
)
INSERT_POINT = "INSERT INTO points VALUES (?, ?, ?)"
ADD_TO_ROLLUP = (
    "INSERT INTO telemetry_rollup VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT DO UPDATE SET total = total + excluded.total, n = n + excluded.n"
)

RollupKey = tuple[str, str, int, int]  # machine, field, width_s, bucket_ns
_UNESCAPED_SPACE = re.compile(r"(?<!\\) ")
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")
_UNESCAPED_EQUALS = re.compile(r"(?<!\\)=")
_UNESCAPE = re.compile(r"\\([,= ])")


def _unescape(text: str) -> str:
    return _UNESCAPE.sub(r"\1", text)


def measurement_of(line: str) -> str:
    """The (escaped) measurement a line protocol line is a point of."""
    return line.split(",", 1)[0].split(" ", 1)[0]


def telemetry_fields(line: str) -> tuple[str, dict[str, float], int] | None:
    """(machine, float fields, time in ns) of a telemetry line with a machine tag; else None."""
    parts = _UNESCAPED_SPACE.split(line)
    if len(parts) != 3:
        return None
    series, field_part, ts = parts
    keys = _UNESCAPED_COMMA.split(series)
    if keys[0] != TELEMETRY_MEASUREMENT:
        return None
    tags = dict(_UNESCAPED_EQUALS.split(tag, 1) for tag in keys[1:])
    machine = tags.get(MACHINE_TAG)
    if machine is None:
        return None
    fields: dict[str, float] = {}
    for pair in _UNESCAPED_COMMA.split(field_part):
        name, value = _UNESCAPED_EQUALS.split(pair, 1)
        try:
            fields[_unescape(name)] = float(value)
        except ValueError:  # not a float field (the gateway writes none in telemetry)
            continue
    return _unescape(machine), fields, int(ts)


def rollup_rows(lines: Iterable[str]) -> list[tuple[str, str, int, int, float, int]]:
    """The `telemetry_rollup` additions of a batch of lines, summed within the batch."""
    sums: dict[RollupKey, list[float]] = {}
    for line in lines:
        parsed = telemetry_fields(line)
        if parsed is None:
            continue
        machine, fields, ts_ns = parsed
        for width in ROLLUP_WIDTHS_S:
            width_ns = width * 1_000_000_000
            bucket = ts_ns - ts_ns % width_ns
            for name, value in fields.items():
                acc = sums.setdefault((machine, name, width, bucket), [0.0, 0])
                acc[0] += value
                acc[1] += 1
    return [(*key, total, int(n)) for key, (total, n) in sums.items()]


def rollup_width(bucket_s: int) -> int:
    """The widest rollup width that divides a chart bucket of `bucket_s` seconds."""
    return max(w for w in ROLLUP_WIDTHS_S if bucket_s % w == 0)
