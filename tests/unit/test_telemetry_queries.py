"""The InfluxQL and Flux the chart reads send, and the InfluxDB 1.x answer read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tracker.adapters.telemetry.influx1 import series_of, statements
from tracker.adapters.telemetry.influx2 import flux
from tracker.domain.telemetry import TelemetryQuery
from tracker.service_layer.telemetry import TelemetryUnavailable

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)


def _query(channels: tuple[str, ...] | None) -> TelemetryQuery:
    return TelemetryQuery("we\"ld'1", T0, T0 + timedelta(hours=1), channels, 720)


def test_influxql_sums_and_counts_the_named_channels_of_the_machine_per_bucket() -> None:
    assert statements(_query(("current", 'a"b')), None) == [
        (
            'SELECT sum("current") AS "sum_current", count("current") AS "count_current",'
            ' sum("a\\"b") AS "sum_a\\"b", count("a\\"b") AS "count_a\\"b"'
            ' FROM "telemetry" WHERE "machine" = \'we"ld\\\'1\''
            " AND time >= 1772438400000000000 AND time < 1772442000000000000"
            " GROUP BY time(5s) fill(none)",
            False,
        )
    ]


def test_influxql_sums_and_counts_every_channel_when_none_is_named() -> None:
    ((text, _),) = statements(_query(None), None)
    assert text.startswith('SELECT sum(*), count(*) FROM "telemetry" WHERE')


def test_whole_minute_buckets_before_the_rollup_s_end_come_from_the_rollup() -> None:
    day = TelemetryQuery("m", T0, T0 + timedelta(days=1), None, 720)  # 120 s buckets
    found = statements(day, T0 + timedelta(hours=10, seconds=61))
    assert [rollup for _, rollup in found] == [True, False]
    assert found[0][0].startswith('SELECT sum(*) FROM "telemetry_1m" WHERE')
    assert "time < 1772474400000000000" in found[0][0]  # 18:00 exactly: whole buckets only
    assert "time >= 1772474400000000000" in found[1][0]
    assert [r for _, r in statements(_query(None), T0 + timedelta(days=2))] == [False]  # 5 s
    assert [r for _, r in statements(day, T0 + timedelta(days=2))] == [True]


def test_an_influxql_answer_becomes_channels_of_bucket_start_and_mean() -> None:
    body = {
        "results": [
            {
                "series": [
                    {
                        "columns": ["time", "sum_sum_a", "sum_count_a"],
                        "values": [[1772438400, 3.0, 2], [1772438405, 2.0, 1]],
                    }
                ]
            },
            {
                "series": [
                    {
                        "columns": ["time", "sum_a", "count_a", "sum_b", "count_b"],
                        "values": [[1772438405, 4.0, 1, None, None], [1772438410, 1.0, 1, 7, 1]],
                    }
                ]
            },
        ]
    }
    series = series_of(body, _query(None), [True, False])
    assert series.bucket_s == 5
    assert series.channels == {
        "a": [(1772438400.0, 1.5), (1772438405.0, 3.0), (1772438410.0, 1.0)],
        "b": [(1772438410.0, 7.0)],
    }


def test_an_influxql_error_is_the_store_being_unavailable() -> None:
    with pytest.raises(TelemetryUnavailable, match="database not found"):
        series_of({"results": [{"error": "database not found: x"}]}, _query(None), [False])


def test_flux_filters_the_machine_merges_its_series_and_averages_per_window() -> None:
    assert flux("plant", _query(("current", "${x}"))) == "\n".join(
        [
            'from(bucket: "plant")',
            "  |> range(start: 2026-03-02T08:00:00.000000Z, stop: 2026-03-02T09:00:00.000000Z)",
            '  |> filter(fn: (r) => r._measurement == "telemetry"'
            ' and r["machine"] == "we\\"ld\'1")',
            '  |> filter(fn: (r) => r._field == "current" or r._field == "\\${x}")',
            '  |> group(columns: ["_field"])',
            '  |> aggregateWindow(every: 5s, fn: mean, createEmpty: false, timeSrc: "_start")',
            '  |> keep(columns: ["_time", "_field", "_value"])',
        ]
    )


def test_flux_reads_every_field_when_no_channel_is_named() -> None:
    assert "_field ==" not in flux("plant", _query(None))
