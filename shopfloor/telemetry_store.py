"""The telemetry store's layout: measurement and tag names, and the embedded SQLite store's tables.

The gateway writes this layout (its SQLite sink, its InfluxDB lines) and the tracker reads it
(its machine charts); both take it from here, as neither may import the other.

The SQLite store keeps every point as its line in `points`, and, so that a week of one machine
reads in milliseconds, the per-machine sums of each float field in `telemetry_rollup` at a few
bucket widths (a chart's bucket is a multiple of one of them: mean = sum(total) / sum(n)).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable

TELEMETRY_MEASUREMENT = "telemetry"
EVENT_MEASUREMENT = "events"
MACHINE_TAG = "machine"

# the rollup's bucket widths, seconds: a chart bucket of b seconds reads the widest that divides b
ROLLUP_WIDTHS_S = (1, 10, 60, 600)
_NS = 1_000_000_000

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS points"
    " (measurement TEXT NOT NULL, time_ns INTEGER NOT NULL, line TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS points_time ON points (measurement, time_ns)",
    "CREATE TABLE IF NOT EXISTS telemetry_rollup (machine TEXT NOT NULL, field TEXT NOT NULL,"
    " width_s INTEGER NOT NULL, bucket_ns INTEGER NOT NULL, total REAL NOT NULL,"
    " n INTEGER NOT NULL, PRIMARY KEY (machine, width_s, bucket_ns, field)) WITHOUT ROWID",
    # one batch's values per machine, field and second, spread to every width in SQL (fast)
    "CREATE TEMP TABLE IF NOT EXISTS batch_rollup (machine TEXT NOT NULL, field TEXT NOT NULL,"
    " bucket_ns INTEGER NOT NULL, total REAL NOT NULL, n INTEGER NOT NULL)",
)
_INSERT_POINT = "INSERT INTO points VALUES (?, ?, ?)"
_STAGE = "INSERT INTO batch_rollup VALUES (?, ?, ?, ?, ?)"
# `WHERE true`: SQLite's upsert after a SELECT needs it to parse
_SPREAD = (
    "INSERT INTO telemetry_rollup SELECT machine, field, {w}, bucket_ns - bucket_ns % {w_ns},"
    " sum(total), sum(n) FROM batch_rollup WHERE true GROUP BY 1, 2, 3, 4"
    " ON CONFLICT DO UPDATE SET total = total + excluded.total, n = n + excluded.n"
)
_CLEAR = "DELETE FROM batch_rollup"

_UNESCAPED_SPACE = re.compile(r"(?<!\\) ")
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")
_UNESCAPED_EQUALS = re.compile(r"(?<!\\)=")
_UNESCAPE = re.compile(r"\\([,= ])")


def measurement_of(line: str) -> str:
    """The (escaped) measurement a line protocol line is a point of."""
    return line.split(",", 1)[0].split(" ", 1)[0]


def telemetry_fields(line: str) -> tuple[str, dict[str, float], int] | None:
    """(machine, float fields, time in ns) of a telemetry line with a machine tag; else None."""
    escaped = "\\" in line
    # str.split when nothing is escaped (nearly always): ten times the regular expressions' speed
    parts = _UNESCAPED_SPACE.split(line) if escaped else line.split(" ")
    if len(parts) != 3:
        return None
    series, field_part, ts = parts
    keys = _UNESCAPED_COMMA.split(series) if escaped else series.split(",")
    if keys[0] != TELEMETRY_MEASUREMENT:
        return None
    prefix = MACHINE_TAG + "="
    machine = next((tag[len(prefix) :] for tag in keys[1:] if tag.startswith(prefix)), None)
    if machine is None:
        return None
    fields: dict[str, float] = {}
    for pair in _UNESCAPED_COMMA.split(field_part) if escaped else field_part.split(","):
        name, value = _UNESCAPED_EQUALS.split(pair, 1) if escaped else pair.split("=", 1)
        try:
            fields[_UNESCAPE.sub(r"\1", name) if escaped else name] = float(value)
        except ValueError:  # not a float field (the gateway writes none in telemetry)
            continue
    return (_UNESCAPE.sub(r"\1", machine) if escaped else machine), fields, int(ts)


def staged_rows(lines: Iterable[str]) -> list[tuple[str, str, int, float, int]]:
    """(machine, field, second in ns, value, 1) of every float field of the telemetry lines."""
    rows = []
    for line in lines:
        parsed = telemetry_fields(line)
        if parsed is not None:
            machine, fields, ts_ns = parsed
            second = ts_ns - ts_ns % _NS
            rows += [(machine, name, second, value, 1) for name, value in fields.items()]
    return rows


def write_batch(db: sqlite3.Connection, lines: list[str]) -> None:
    """Store a batch of lines and add its telemetry to the rollup, in one transaction."""
    points = [(measurement_of(line), int(line.rsplit(" ", 1)[1]), line) for line in lines]
    staged = staged_rows(lines)
    with db:
        db.executemany(_INSERT_POINT, points)
        if staged:
            db.executemany(_STAGE, staged)
            for width in ROLLUP_WIDTHS_S:
                db.execute(_SPREAD.format(w=width, w_ns=width * _NS))
            db.execute(_CLEAR)


def rollup_width(bucket_s: int) -> int:
    """The widest rollup width that divides a chart bucket of `bucket_s` seconds."""
    return max(w for w in ROLLUP_WIDTHS_S if bucket_s % w == 0)


def chart_sql(channels: int | None) -> str:
    """The read of a chart from the rollup: mean per bucket (`:b` ns) of the machine's (`:m`)
    fields (`:c0`... when `channels` are named) from `:start` to `:end` ns at width `:w`; the
    rollup bucket that `:start` falls in counts whole (`:w_ns` is the width in ns)."""
    sql = (
        "SELECT field, bucket_ns / :b * :b AS t, sum(total) / sum(n) FROM telemetry_rollup"
        " WHERE machine = :m AND width_s = :w AND bucket_ns > :start - :w_ns AND bucket_ns < :end"
    )
    if channels is not None:
        sql += f" AND field IN ({', '.join(f':c{i}' for i in range(channels))})"
    return sql + " GROUP BY field, t ORDER BY field, t"


# InfluxDB 1.x keeps its own rollup: a continuous query sums each field of `telemetry` per
# minute into `telemetry_1m` (fields `sum_<field>` and `count_<field>`, the same tags); a chart
# whose bucket is whole minutes reads it instead of every point. The query runs every minute
# over the last two, so the last INFLUX_ROLLUP_LAG_S seconds are read from the points.
INFLUX_ROLLUP_MEASUREMENT = "telemetry_1m"
INFLUX_ROLLUP_S = 60
INFLUX_ROLLUP_LAG_S = 180
_INFLUX_ROLLUP_SELECT = (
    f'SELECT sum(*), count(*) INTO "{INFLUX_ROLLUP_MEASUREMENT}" FROM "{TELEMETRY_MEASUREMENT}"'
)


def influx_rollup_query(database: str) -> str:
    """The InfluxQL that creates the InfluxDB 1.x rollup's continuous query in `database`."""
    quoted = '"' + database.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return (
        f'CREATE CONTINUOUS QUERY "{INFLUX_ROLLUP_MEASUREMENT}" ON {quoted}'
        f" RESAMPLE EVERY 1m FOR 2m BEGIN {_INFLUX_ROLLUP_SELECT}"
        f" GROUP BY time({INFLUX_ROLLUP_S}s), * END"
    )


def influx_rollup_backfill(start_ns: int, end_ns: int) -> str:
    """The InfluxQL that fills the rollup from points written before its continuous query."""
    return (
        f"{_INFLUX_ROLLUP_SELECT} WHERE time >= {start_ns} AND time < {end_ns}"
        f" GROUP BY time({INFLUX_ROLLUP_S}s), *"
    )
