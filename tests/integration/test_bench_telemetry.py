"""`shopfloor bench telemetry` runs small and ends with its JSON line (figures, not speed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from launcher.services.influx import InfluxDB1

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TIMES = (
    "chart_week_ms_influx1",
    "chart_week_ms_influx1_points",
    "chart_week_ms_sqlite",
    "raw_week_ms_influx1",
    "raw_week_ms_sqlite",
)


def test_bench_reads_both_stores_for_the_chart_and_ends_with_json(influxdb1: InfluxDB1) -> None:
    small = ["--days", "0.05", "--channels", "3", "--repeats", "1", "--influx-url", influxdb1.url]
    result = subprocess.run(
        [sys.executable, "-m", "launcher", "bench", "telemetry", *small],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary["bench"] == "telemetry" and summary["points"] == 4320
    for key in TIMES:
        value = summary[key]
        assert isinstance(value, int | float) and value > 0, (key, value)
    # 4320 s in 5 s buckets: every bucket of every channel, the same from both ways of reading
    assert summary["bucket_s"] == 5
    assert summary["chart_samples_influx1"] == summary["chart_samples_influx1_points"] == 3 * 864
    assert any(line.startswith("SQLite (its rollup)") for line in lines)
