"""The telemetry store layout: telemetry lines read back, and the SQLite rollup's sums."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from gateway.points import telemetry_line
from shopfloor.contract.payloads import TelemetryReading
from shopfloor.telemetry_store import (
    SCHEMA,
    rollup_width,
    staged_rows,
    telemetry_fields,
    write_batch,
)

TAGS = {"site": "p1", "line": "l 1", "machine": "weld,1"}
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _line(values: dict[str, float], second: float, tags: dict[str, str] = TAGS) -> str:
    reading = TelemetryReading(ts=T0.replace(second=int(second)), values=values)
    return telemetry_line(tags, reading, T0)


def test_a_gateway_line_reads_back_as_its_machine_fields_and_time_escapes_undone() -> None:
    line = _line({"current a": 12.5, "v=1": -3.0}, 1)
    assert telemetry_fields(line) == (
        "weld,1",
        {"current a": 12.5, "v=1": -3.0},
        int(T0.timestamp() + 1) * 1_000_000_000,
    )


def test_lines_of_events_or_without_a_machine_tag_have_no_rollup() -> None:
    no_machine = _line({"x": 1.0}, 0, {"site": "p1"})
    event = 'events,machine=m,type=state event_id="e1",state="DOWN" 1'
    assert telemetry_fields(no_machine) is None
    assert telemetry_fields(event) is None
    assert staged_rows([no_machine, event]) == []


def _rollup(db: sqlite3.Connection) -> dict[tuple[str, str, int, int], tuple[float, int]]:
    rows = db.execute("SELECT machine, field, width_s, bucket_ns, total, n FROM telemetry_rollup")
    return {(m, f, w, b): (total, n) for m, f, w, b, total, n in rows}


def test_batches_add_each_field_to_every_width_of_the_rollup_and_keep_their_lines() -> None:
    db = sqlite3.connect(":memory:")
    for statement in SCHEMA:
        db.execute(statement)
    write_batch(db, [_line({"a": 1.0}, 1), _line({"a": 3.0, "b": 5.0}, 2)])
    write_batch(db, [_line({"a": 5.0}, 12), 'events,machine=m,type=state state="DOWN" 1'])
    rows = _rollup(db)
    t0 = int(T0.timestamp()) * 1_000_000_000
    assert rows[("weld,1", "a", 10, t0)] == (4.0, 2)
    assert rows[("weld,1", "a", 10, t0 + 10 * 1_000_000_000)] == (5.0, 1)
    assert rows[("weld,1", "a", 60, t0)] == (9.0, 3)
    assert rows[("weld,1", "b", 600, t0)] == (5.0, 1)
    assert len([key for key in rows if key[2] == 1]) == 4
    assert db.execute("SELECT count(*) FROM points").fetchone() == (4,)
    assert db.execute("SELECT count(*) FROM batch_rollup").fetchone() == (0,)


def test_a_chart_bucket_reads_the_widest_rollup_width_that_divides_it() -> None:
    assert [rollup_width(b) for b in (1, 5, 20, 30, 120, 300, 1800, 7200)] == [
        1,
        1,
        10,
        10,
        60,
        60,
        600,
        600,
    ]
