"""The customer's tracking page (and the board) in a real headless chromium: in German and
English from a browser in New York, times in the plant's zone (Europe/Berlin), the plant's
name and logo, and a breakdown told in customer words with an ETA range while the order's
machine is DOWN."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.browser_driver import ARTIFACTS
from tests.e2e.test_board_browser import Machines, _order
from tests.processes import served_tracker
from tests.services import Mosquitto
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "browser" / "track_test.js"
SPAN_CASES = ROOT / "tests" / "data" / "span_cases.json"
ORDER = "SO-2001"


@pytest.fixture
def tracker(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[dict[str, str]]:
    plant = tmp_path / "plant.yaml"
    plant.write_text("timezone: Europe/Berlin\n", encoding="utf-8")
    logo = tmp_path / "logo.svg"
    logo.write_text(
        "<svg xmlns='http://www.w3.org/2000/svg' width='40' height='40'>"
        "<rect width='40' height='40' fill='#2a6'/></svg>",
        encoding="utf-8",
    )
    settings = {
        "SHOPFLOOR_PLANT_FILE": str(plant),
        "SHOPFLOOR_PLANT_NAME": "Werk Süd",
        "SHOPFLOOR_PLANT_LOGO": str(logo),
    }
    with served_tracker(mosquitto, tmp_path, "e2e-track", settings) as served:
        yield served


def test_the_customer_page_speaks_the_browsers_language_in_plant_time_and_tells_a_breakdown(
    browser_tools: tuple[str, str], tracker: dict[str, str], mosquitto: Mosquitto
) -> None:
    node, chromium = browser_tools
    api, key = tracker["api"], tracker["key"]
    due = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)
    token = _order(api, key, ORDER, due, [("cut", "saw-1"), ("weld", "weld-1")])
    machines = Machines(mosquitto, prefix="t")
    try:
        machines.send("saw-1", ago_s=300, type="state", state="RUNNING")
        machines.send("saw-1", ago_s=300, type="job_start", order_id=ORDER, operation=10)
        for counter in range(1, 4):
            machines.send("saw-1", ago_s=300 - 60 * counter, type="cycle", counter=counter)
        machines.send("saw-1", type="state", state="DOWN")
    finally:
        machines.close()

    def told() -> bool:
        answer = httpx.get(f"{api}/api/v1/orders/{ORDER}/progress?token={token}").json()
        return (answer.get("delay") or {}).get("kind") == "breakdown"

    wait_for(told, "the breakdown told in the progress", 15)
    ARTIFACTS.mkdir(exist_ok=True)
    result = subprocess.run(
        [node, str(DRIVER)],
        cwd=DRIVER.parent,
        env={
            **os.environ,
            "BASE_URL": api,
            "ORDER_ID": ORDER,
            "TOKEN": token,
            "API_KEY": key,
            "CHROMIUM": chromium,
            "ARTIFACTS": str(ARTIFACTS),
            "SPAN_CASES": str(SPAN_CASES),
            "DUE_PLANT": f"{due.astimezone(ZoneInfo('Europe/Berlin')):%H:%M}",
            "DUE_BROWSER": f"{due.astimezone(ZoneInfo('America/New_York')):%H:%M}",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0 and log.rstrip().endswith("ok"), log
    assert "shows the due time in plant time" in log and "customer words" in log, log
    assert log.count("matches the 19 cases of the shared table") == 2, log
    assert "the board in German" in log, log
