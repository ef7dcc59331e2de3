"""`shopfloor bench tracker` runs tiny on SQLite and PostgreSQL and ends with its JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import postgres_server_url

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
KEYS = (
    "events_per_s_sqlite",
    "events_per_s_postgres",
    "evaluate_10k_s",
    "peak_rss_mb",
    "oee_100_machines_week_s",
)
TINY = [
    *("--events", "300", "--machines", "10", "--orders", "50", "--evaluate-orders", "200"),
    *("--oee-machines", "5"),
]


def test_bench_reports_the_issue_figures_as_positive_numbers() -> None:
    pg = postgres_server_url()
    result = subprocess.run(
        [sys.executable, "-m", "launcher", "bench", "tracker", *TINY, "--pg-server", pg],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,  # a hang guard: a loaded machine took 30 s (the bench said wall_s 27.5)
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["bench"] == "tracker"
    for key in KEYS:
        value = summary[key]
        assert isinstance(value, int | float) and value > 0, (key, value)
