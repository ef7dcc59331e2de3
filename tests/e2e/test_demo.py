"""`shopfloor demo` runs the whole system on embedded defaults, with nothing else installed."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from tests.processes import Process
from tests.services import free_port

pytestmark = pytest.mark.e2e


def test_demo_moves_orders_stores_telemetry_and_raises_the_late_alert(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "data"
    demo = Process(
        "demo",
        ["demo", "--data-dir", str(data), "--port", str(port), "--duration", "12"],
        {},
        tmp_path,
    )
    try:
        demo.wait_for_log("Uvicorn running", timeout_s=60)
        out = demo.log()
        key = re.search(r"supervisor key:\s+(\S+)", out)
        links = re.findall(r"customer link:\s+(\S+)", out)
        assert key and len(links) == 2, out
        deadline = time.monotonic() + 10
        percent = 0.0
        while time.monotonic() < deadline and percent == 0.0:
            progress = httpx.get(links[0]).json()
            percent = progress["percent_complete"]
            time.sleep(0.5)
        assert percent > 0, progress
        alerts = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/alerts", headers={"X-API-Key": key.group(1)}
        ).json()
        assert [a["kind"] for a in alerts] == ["late"]
        assert httpx.get(links[1].split("?")[0] + "?token=wrong").status_code == 404
        assert demo.proc.wait(30) == 0, demo.log()
    finally:
        demo.stop()
    with sqlite3.connect(data / "telemetry.db") as db:
        counts = dict(db.execute("SELECT measurement, count(*) FROM points GROUP BY 1"))
    assert counts["telemetry"] > 5 and counts["events"] > 5
