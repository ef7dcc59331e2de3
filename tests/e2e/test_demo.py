"""`shopfloor demo` runs the whole system on embedded defaults, with nothing else installed.

The built-in scenario's story is checked through the API (`--check`): orders progress on the
work the tracker dispatches, weld-1's breakdown raises SO-1003's late-order alert, telemetry is
stored; a second start reuses the data directory or resets it.
"""

from __future__ import annotations

import re
import signal
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from tests.processes import Process
from tests.services import free_port

pytestmark = pytest.mark.e2e


def _demo(tmp_path: Path, name: str, *extra: str) -> tuple[Process, int]:
    port = free_port()
    args = ["demo", "--data-dir", str(tmp_path / "data"), "--port", str(port), *extra]
    return Process(name, args, {}, tmp_path), port


def test_the_demo_story_holds_and_telemetry_is_stored(tmp_path: Path) -> None:
    demo, port = _demo(tmp_path, "demo", "--check", "--speed", "120")
    try:
        demo.wait_for_log("Uvicorn running", timeout_s=60)
        out = demo.log()
        key = re.search(r"supervisor key:\s+(\S+)", out)
        pages = re.findall(r"customer page:\s+(\S+)", out)
        assert key and len(pages) == 4, out  # SO-1004 arrives later
        order_url = pages[0].split("?")[0].replace("/track/", "/api/v1/orders/")
        assert httpx.get(order_url + "/progress?token=wrong").status_code == 404
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/alerts").status_code == 401
        assert demo.proc.wait(120) == 0, demo.log()[-4000:]
    finally:
        demo.stop()
    out = demo.log()
    assert "ok      SO-1003 raised a late-order alert" in out
    assert "the expected outcome holds" in out
    assert "order SO-1004 placed" in out  # the rush order arrived while the plant ran
    assert " ERROR " not in out, out  # the broker probe's empty connection is not an error
    summary = re.search(r"shopfloor demo: the (?:story has ended|demo stopped) at plant time", out)
    assert summary, out[-3000:]
    assert re.search(r"alerts:  [1-9]\d* raised", out)
    assert re.search(r"late:    SO-1003 tracking page http://\S+/track/SO-1003\?token=", out)
    with sqlite3.connect(tmp_path / "data" / "telemetry.db") as db:
        counts = dict(db.execute("SELECT measurement, count(*) FROM points GROUP BY 1"))
        lines = [row[0] for row in db.execute("SELECT line FROM points")]
    machines = {m for line in lines for m in re.findall(r"machine=([^,\s]+)", line)}
    assert counts["telemetry"] > 50 and counts["events"] > 20
    assert {"cnc-1", "lathe-1", "press-1", "weld-1", "paint-1", "asm-1"} <= machines


def test_a_second_start_reuses_the_data_or_resets_it(tmp_path: Path) -> None:
    runs = ((1, (), "SO-1001"), (2, (), "SO-1001-r2"), (3, ("--reset",), "SO-1001"))
    for run, extra, expected in runs:
        demo, _port = _demo(tmp_path, f"demo{run}", *extra)
        try:
            demo.wait_for_log("Uvicorn running", timeout_s=60)
            pages = re.findall(r"customer page:\s+\S+/track/(\S+)\?", demo.log())
            assert pages[0] == expected, demo.log()
            time.sleep(2)
            demo.proc.send_signal(signal.SIGINT)  # Ctrl-C stops everything cleanly
            assert demo.proc.wait(60) == 0, demo.log()[-3000:]
            assert "gateway stopped" in demo.log() and "tracker stopped" in demo.log()
        finally:
            demo.stop()
    with sqlite3.connect(tmp_path / "data" / "shopfloor.db") as db:
        orders = {row[0] for row in db.execute("SELECT order_id FROM orders")}
    assert "SO-1001" in orders and "SO-1001-r2" not in orders  # the reset emptied it


def test_a_bad_scenario_file_stops_the_demo_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmachines:\n  - {id: m1, model: laser}\n")
    demo, _port = _demo(tmp_path, "bad", "--scenario", str(bad))

    assert demo.proc.wait(60) == 2
    assert "bad.yaml:3: machines.0: " in demo.log()
    assert "unknown model 'laser'" in demo.log()
    demo.stop()


def test_bad_service_urls_stop_the_demo_with_a_clear_error(tmp_path: Path) -> None:
    no_broker, _ = _demo(tmp_path, "no-broker", "--broker", f"mqtt://127.0.0.1:{free_port()}")
    bad_broker, _ = _demo(tmp_path, "bad-broker", "--broker", "http://127.0.0.1:1883")
    no_database, _ = _demo(
        tmp_path,
        "no-database",
        "--database-url",
        f"postgresql+psycopg://x@127.0.0.1:{free_port()}/x",
    )

    assert no_broker.proc.wait(60) == 2 and no_database.proc.wait(60) == 2
    assert bad_broker.proc.wait(60) == 2
    assert "shopfloor demo: no MQTT broker at 127.0.0.1:" in no_broker.log()
    assert "shopfloor demo: broker URL 'http://127.0.0.1:1883' must look like" in bad_broker.log()
    assert "shopfloor demo: cannot use the database: " in no_database.log()
    for process in (no_broker, bad_broker, no_database):
        process.stop()
