"""`shopfloor bench api` runs small against the test broker and ends with its JSON line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import Mosquitto

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--orders", "200", "--imported", "50", "--duration-s", "2", "--connections", "20"]
RATES = ("ceiling_rps", "progress_rps", "paced_progress_rps", "ceiling_async_rps")
LATENCIES = ("progress_p50_ms", "progress_p99_ms", "paced_progress_p50_ms")


@pytest.mark.skipif(
    shutil.which("wrk") is None,
    reason="wrk is not installed (apt-get install wrk; scripts/test does)",
)
def test_bench_reports_rates_and_latencies_of_the_progress_endpoint(mosquitto: Mosquitto) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPFLOOR_")}
    result = subprocess.run(
        [sys.executable, "-m", "launcher", "bench", "api", *SMALL, "--broker", mosquitto.url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["bench"] == "api"
    for key in RATES + LATENCIES:
        value = summary[key]
        assert isinstance(value, int | float) and value > 0, (key, value)
    assert summary["progress_p99_ms"] >= summary["progress_p50_ms"]
    assert 0 < summary["progress_vs_ceiling"] < 10
    # every poll was answered with its order (no 401/404: tokens right; no 429: limiter raised)
    assert summary["progress_other_statuses"] == {}
    assert summary["server_tracebacks"] == 0
    if summary["not_modified_rps"] is None:  # a server without ETags says why
        assert "ETag" in summary["note"]
    else:
        assert summary["not_modified_rps"] > 0
        assert summary["not_modified_vs_ceiling"] > 0
