"""The board's machine view in a real headless chromium: a machine's channels as charts, from
the SQLite telemetry store and from InfluxDB 1.x, its DOWN state as a band and its alarm as a
marker, zoom by drag."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.points import telemetry_line
from gateway.settings import InfluxSettings
from gateway.sinks import InfluxV1Sink, SqliteSink
from launcher.services.influx import InfluxDB1
from shopfloor.contract.payloads import TelemetryReading
from tests.browser_driver import ARTIFACTS
from tests.e2e.test_board_browser import Machines
from tests.processes import served_tracker
from tests.services import Mosquitto

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "browser" / "machine_view_test.js"
CHANNELS = ("current", "voltage", "wire_speed")
DOCS_SHOT = ROOT / "docs" / "machine-view.png"


def _telemetry(sink: SqliteSink | InfluxV1Sink, now: datetime) -> None:
    """Three hours of weld-1 at 1 Hz through a gateway sink; no current while it is down."""
    sink.connect()
    start = now - timedelta(hours=3)
    lines = []
    for second in range(3 * 3600):
        at = start + timedelta(seconds=second)
        down = 8400 <= second < 9600  # 40 to 20 minutes ago
        values = {
            "current": 0.0 if down else 180.0 + second % 20,
            "voltage": 0.0 if down else 24.0,
            "wire_speed": 0.0 if down else 8.5 + (second % 60) / 60,
        }
        reading = TelemetryReading(ts=at, values=values)
        lines.append(
            telemetry_line({"site": "plant1", "line": "line1", "machine": "weld-1"}, reading, at)
        )
    sink.write(lines)
    sink.close()


def _store(kind: str, tmp_path: Path, influxdb1: InfluxDB1) -> dict[str, str]:
    """The telemetry written to a store of `kind`, and the tracker's settings to read it."""
    if kind == "sqlite":
        _telemetry(SqliteSink(tmp_path / "telemetry.db"), datetime.now(UTC))
        return {"KIND": "sqlite", "SQLITE_PATH": str(tmp_path / "telemetry.db")}
    db = f"charts_{secrets.token_hex(4)}"
    influxdb1.create_database(db)
    settings = InfluxSettings(sink="influx1", url=influxdb1.url, database=db)
    _telemetry(InfluxV1Sink(settings), datetime.now(UTC))
    return {"KIND": "influx1", "URL": influxdb1.url, "DATABASE": db}


@pytest.fixture(params=["sqlite", "influx1"])
def tracker(
    request: pytest.FixtureRequest, mosquitto: Mosquitto, influxdb1: InfluxDB1, tmp_path: Path
) -> Iterator[dict[str, str]]:
    store = _store(request.param, tmp_path, influxdb1)
    settings = {f"SHOPFLOOR_TELEMETRY__{name}": value for name, value in store.items()}
    with served_tracker(mosquitto, tmp_path, "e2e-charts", settings) as served:
        yield served


def test_a_machine_card_opens_charts_of_its_channels_with_states_and_alarms(
    browser_tools: tuple[str, str], tracker: dict[str, str], mosquitto: Mosquitto
) -> None:
    node, chromium = browser_tools
    machines = Machines(mosquitto, prefix="charts")
    try:
        machines.send("weld-1", ago_s=3 * 3600, type="state", state="RUNNING")
        machines.send("weld-1", ago_s=2400, type="state", state="DOWN")
        machines.send(
            "weld-1", ago_s=2400, type="alarm", code="WF-204", message="wire feed blocked"
        )
        machines.send("weld-1", ago_s=1200, type="state", state="RUNNING")
    finally:
        machines.close()
    driver = subprocess.run(
        [node, str(DRIVER)],
        cwd=DRIVER.parent,
        env={
            **os.environ,
            "BASE_URL": tracker["api"],
            "API_KEY": tracker["key"],
            "MACHINE": "weld-1",
            "CHANNELS": str(len(CHANNELS)),
            "CHROMIUM": chromium,
            "ARTIFACTS": str(ARTIFACTS),
        },
        capture_output=True,
        text=True,
        timeout=120,  # a hung browser fails the test instead of holding up CI
    )
    log = driver.stdout + driver.stderr
    assert driver.returncode == 0 and log.rstrip().endswith("ok"), log
    assert "3 charts with state bands and the alarm" in log
    # the picture on docs/board.md: refreshed on request, or made when missing
    if os.environ.get("SHOPFLOOR_UPDATE_SCREENSHOTS") or not DOCS_SHOT.exists():
        shutil.copyfile(ARTIFACTS / "machine-view.png", DOCS_SHOT)
