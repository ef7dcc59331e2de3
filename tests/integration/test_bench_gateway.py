"""`shopfloor bench gateway` runs end to end on a tiny backlog and ends with its JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
KEYS = (
    "ceiling_rps",
    "naive_rps",
    "gateway_rps",
    "gateway_live_rps",
    "gateway_batched_rps",
    "sparkplug_rps",
    "gateway_vs_naive",
    "gateway_vs_ceiling",
    "peak_rss_mb",
)


def test_bench_starts_its_servers_and_reports_every_figure() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "launcher", "bench", "gateway", "--messages", "1000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["bench"] == "gateway"
    for key in KEYS:
        value = summary[key]
        assert isinstance(value, int | float) and value > 0, (key, value)
