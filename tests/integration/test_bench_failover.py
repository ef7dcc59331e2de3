"""`shopfloor bench failover` runs (one kill, short timeout) and ends with its JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_bench_kills_the_leader_and_reports_the_takeover_time_last_as_json() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "launcher", "bench", "failover", "--kills", "1"]
        + ["--leadership-timeout-s", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary["bench"] == "failover" and summary["kills"] == 1
    assert 0 < summary["failover_s_median"] <= 2.0 == summary["leadership_timeout_s"]
    assert "kill 1:" in result.stdout and "ratio" in lines[-2]
