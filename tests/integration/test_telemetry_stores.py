"""Chart reads of real stores: lines written by the gateway's own sinks, read back through the
tracker's telemetry interface, the same answer from SQLite and InfluxDB 1.x."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.points import telemetry_line
from gateway.settings import InfluxSettings
from gateway.sinks import InfluxV1Sink, SqliteSink
from launcher.services.influx import InfluxDB1
from shopfloor.contract.payloads import TelemetryReading
from shopfloor.telemetry_store import (
    INFLUX_ROLLUP_LAG_S,
    influx_rollup_backfill,
    influx_rollup_query,
)
from tracker.adapters.telemetry import make_telemetry_store
from tracker.adapters.telemetry.influx1 import Influx1Telemetry
from tracker.domain.telemetry import TelemetryQuery, TelemetrySeries
from tracker.service_layer.telemetry import TelemetryStore, TelemetryUnavailable
from tracker.settings import TelemetrySettings

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
HOUR = 3600


def _lines() -> list[str]:
    """An hour of two machines at 1 Hz: weld-1 with `current` and `temp`, saw-1 with `current`."""
    lines = []
    for second in range(HOUR):
        at = T0 + timedelta(seconds=second)
        weld = {"current": float(second % 7), "temp": 20.0 + second / 100}
        lines.append(
            telemetry_line(
                {"site": "p1", "line": "l1", "machine": "weld-1"},
                TelemetryReading(ts=at, values=weld),
                at,
            )
        )
        lines.append(
            telemetry_line(
                {"site": "p1", "line": "l1", "machine": "saw-1"},
                TelemetryReading(ts=at, values={"current": 100.0}),
                at,
            )
        )
    return lines


def _expected(bucket_s: int, channel: str) -> list[tuple[float, float]]:
    values = [float(s % 7) if channel == "current" else 20.0 + s / 100 for s in range(HOUR)]
    chunks = [values[i : i + bucket_s] for i in range(0, HOUR, bucket_s)]
    start = T0.timestamp()
    return [(start + i * bucket_s, sum(c) / len(c)) for i, c in enumerate(chunks)]


def _write(sink: SqliteSink | InfluxV1Sink, lines: list[str]) -> None:
    sink.connect()
    try:
        for i in range(0, len(lines), 1000):
            sink.write(lines[i : i + 1000])
    finally:
        sink.close()


@pytest.fixture(scope="module")
def stores(
    influxdb1: InfluxDB1, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, TelemetryStore]]:
    lines = _lines()
    path = tmp_path_factory.mktemp("telemetry") / "telemetry.db"
    _write(SqliteSink(path), lines)
    db = f"charts_{secrets.token_hex(4)}"
    influxdb1.create_database(db)
    _write(InfluxV1Sink(InfluxSettings(sink="influx1", url=influxdb1.url, database=db)), lines)
    # the rollup as docs/mqtt.md sets it up: the continuous query, and a backfill of older points
    influxdb1.query(db, influx_rollup_query(db))
    influxdb1.query(db, influx_rollup_backfill(0, int(T0.timestamp() + HOUR) * 1_000_000_000))
    # half the hour summed by the continuous query, the rest not yet: read from the points
    half_done = T0 + timedelta(minutes=30, seconds=INFLUX_ROLLUP_LAG_S)
    opened = {
        "sqlite": make_telemetry_store(TelemetrySettings(kind="sqlite", sqlite_path=path)),
        "influx1": make_telemetry_store(
            TelemetrySettings(kind="influx1", url=influxdb1.url, database=db)
        ),
        "influx1_rollup": Influx1Telemetry(
            influxdb1.url, db, None, 10, rollup=True, clock=lambda: half_done
        ),
        "influx1_rollup_only": Influx1Telemetry(
            influxdb1.url, db, None, 10, rollup=True, clock=lambda: T0 + timedelta(days=1)
        ),
    }
    yield opened
    for store in opened.values():
        store.close()


def _approx(series: TelemetrySeries) -> dict[str, list[tuple[float, float]]]:
    return {k: [(t, round(v, 9)) for t, v in samples] for k, samples in series.channels.items()}


@pytest.mark.parametrize("kind", ["sqlite", "influx1", "influx1_rollup", "influx1_rollup_only"])
@pytest.mark.parametrize("points", [60, 720, 3600])
def test_a_machine_s_channels_read_back_as_the_mean_of_each_bucket(
    stores: dict[str, TelemetryStore], kind: str, points: int
) -> None:
    query = TelemetryQuery("weld-1", T0, T0 + timedelta(hours=1), None, points)
    series = stores[kind].read(query)
    assert series.bucket_s == HOUR // points
    assert sorted(series.channels) == ["current", "temp"]
    for channel in ("current", "temp"):
        expected = [(t, round(v, 9)) for t, v in _expected(series.bucket_s, channel)]
        assert _approx(series)[channel] == expected


def test_both_stores_give_the_same_answer_for_named_channels_of_part_of_the_range(
    stores: dict[str, TelemetryStore],
) -> None:
    query = TelemetryQuery(
        "saw-1", T0 + timedelta(minutes=10), T0 + timedelta(minutes=20), ("current", "none"), 100
    )
    answers = {kind: _approx(store.read(query)) for kind, store in stores.items()}
    assert all(answer == answers["sqlite"] for answer in answers.values())
    assert answers["sqlite"]["none"] == []
    assert answers["sqlite"]["current"][0] == ((T0 + timedelta(minutes=10)).timestamp(), 100.0)
    assert len(answers["sqlite"]["current"]) == 60


def test_a_range_starting_inside_a_rollup_bucket_keeps_that_bucket_s_points(
    stores: dict[str, TelemetryStore],
) -> None:
    start = T0 + timedelta(minutes=10, seconds=30)  # inside a 600 s rollup bucket of SQLite
    query = TelemetryQuery("saw-1", start, T0 + timedelta(hours=1), ("current",), 5)
    assert query.bucket_s == 600
    for store in stores.values():
        samples = store.read(query).channels["current"]
        assert samples[0] == ((T0 + timedelta(minutes=10)).timestamp(), 100.0)
        assert len(samples) == 5


def test_a_machine_with_no_telemetry_has_empty_channels(
    stores: dict[str, TelemetryStore],
) -> None:
    query = TelemetryQuery("ghost", T0, T0 + timedelta(hours=1), None, 60)
    assert all(store.read(query).channels == {} for store in stores.values())


def test_stores_that_cannot_be_reached_are_unavailable(tmp_path: Path) -> None:
    query = TelemetryQuery("weld-1", T0, T0 + timedelta(hours=1), None, 60)
    down = [
        TelemetrySettings(kind="sqlite", sqlite_path=tmp_path / "missing.db"),
        TelemetrySettings(kind="influx1", url="http://127.0.0.1:9", timeout_s=2),
        TelemetrySettings(kind="influx2", url="http://127.0.0.1:9", timeout_s=2),
        TelemetrySettings(kind="none"),
    ]
    for settings in down:
        store = make_telemetry_store(settings)
        with pytest.raises(TelemetryUnavailable):
            store.read(query)
        store.close()
