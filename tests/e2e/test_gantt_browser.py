"""The board's Gantt in a real headless chromium, on a real tracker with a shift calendar: a weld
run across a breakdown is one bar in three pieces (ran, down, ran) over a downtime band,
off-shift hours are shaded, bars carry labels, a legend explains it, and on a phone the chart
scrolls inside its card, opening on "now", while the page stays within the screen."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.browser_driver import ARTIFACTS, ROOT, run_driver
from tests.processes import served_tracker
from tests.services import Mosquitto

pytestmark = pytest.mark.e2e

DRIVER = ROOT / "tests" / "browser" / "gantt_test.js"
DOCS_SHOT = ROOT / "docs" / "gantt-phone.png"
ZONE = ZoneInfo("Europe/Berlin")


def _plant(now: datetime) -> str:
    """A day shift from three hours before now to three hours after, plant time, with a break
    an hour from now: whatever the time of day the test runs, off-shift hours are in view."""
    hour = now.astimezone(ZONE).replace(minute=0, second=0, microsecond=0)
    at = lambda h: (hour + timedelta(hours=h)).strftime("%H:%M")  # noqa: E731
    return f"""
machines: [weld-1, paint-1, saw-1, saw-9]
calendars:
  day:
    timezone: Europe/Berlin
    shifts: [{{days: mon-sun, start: "{at(-3)}", end: "{at(3)}"}}]
    breaks: [{{days: mon-sun, start: "{at(1)}", end: "{at(1.25)}"}}]
work_centers:
  weld: {{machines: [weld-1], calendar: day}}
  paint: {{machines: [paint-1], calendar: day}}
  cut: [saw-1, saw-9]
"""


@pytest.fixture
def tracker(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[dict[str, str]]:
    plant = tmp_path / "plant.yaml"
    plant.write_text(_plant(datetime.now(UTC)), encoding="utf-8")
    settings = {"SHOPFLOOR_PLANT_FILE": str(plant), "SHOPFLOOR_CHECK_INTERVAL_S": "5"}
    with served_tracker(mosquitto, tmp_path, "e2e-gantt", settings) as served:
        yield served


def _order(api: str, key: str, order_id: str, ops: list[tuple[str, str, int]]) -> None:
    body = {
        "order_id": order_id,
        "customer": "ACME",
        "product": "frame",
        "quantity": 20,
        "due_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        "operations": [
            {"seq": 10 * (i + 1), "name": name, "machine": machine, "setup_s": 0, "cycle_s": cycle}
            for i, (name, machine, cycle) in enumerate(ops)
        ],
    }
    response = httpx.post(f"{api}/api/v1/orders", json=body, headers={"X-API-Key": key})
    assert response.status_code == 201, response.text


def _history(broker: Mosquitto) -> None:
    """An hour of events: weld-1 starts SO-2001's weld 45 minutes ago, breaks down 30 minutes
    ago for 12 minutes and runs on; saw-1 cut SO-2002 from 40 to 25 minutes ago."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect(broker.host, broker.port)
    client.loop_start()
    now, n = datetime.now(UTC), 0

    def send(machine: str, minutes_ago: float, **body: object) -> None:
        nonlocal n
        n += 1
        ts = (now - timedelta(minutes=minutes_ago)).isoformat()
        payload = json.dumps({"event_id": f"g{n}", "ts": ts, **body}).encode()
        client.publish(f"shopfloor/plant1/line1/{machine}/event", payload, qos=1).wait_for_publish(
            5
        )

    try:
        for machine in ("weld-1", "paint-1", "saw-1", "saw-9"):
            send(machine, 60, type="state", state="IDLE")
        send("weld-1", 45, type="state", state="RUNNING")
        send("weld-1", 45, type="job_start", order_id="SO-2001", operation=10)
        for i, ago in enumerate([43, 41, 39, 37, 35, 33, 16, 14, 12, 10, 8, 6, 4, 2]):
            send("weld-1", ago, type="cycle", counter=i + 1)
            if ago == 33:
                send("weld-1", 30, type="state", state="DOWN")
                send("weld-1", 18, type="state", state="RUNNING")
        send("saw-1", 40, type="state", state="RUNNING")
        send("saw-1", 40, type="job_start", order_id="SO-2002", operation=10)
        for i in range(15):
            send("saw-1", 39 - i, type="cycle", counter=i + 1)
        send("saw-1", 25, type="job_end", order_id="SO-2002", operation=10)
        send("saw-1", 25, type="state", state="IDLE")
    finally:
        client.disconnect()
        client.loop_stop()


def test_the_gantt_shows_what_happened_and_opens_on_now_on_a_phone(
    browser_tools: tuple[str, str], tracker: dict[str, str], mosquitto: Mosquitto
) -> None:
    node, chromium = browser_tools
    api, key = tracker["api"], tracker["key"]
    # the weld is 20 x 2 min; the paint after it 20 x 9 min: three hours, past the shift's end
    _order(api, key, "SO-2001", [("weld", "weld-1", 120), ("paint", "paint-1", 540)])
    _order(api, key, "SO-2002", [("cut", "saw-1", 60), ("weld", "weld-1", 90)])
    _history(mosquitto)
    log = run_driver(
        node, DRIVER, {"BASE_URL": api, "API_KEY": key, "CHROMIUM": chromium}, timeout_s=150
    )
    assert "the weld bar is split: running, down, running" in log, log
    assert "on a phone the now-line is in view" in log, log
    assert "the Gantt in German" in log, log
    # docs/board.md's picture: refreshed on request, or made when missing
    if os.environ.get("SHOPFLOOR_UPDATE_SCREENSHOTS") or not DOCS_SHOT.exists():
        shutil.copyfile(ARTIFACTS / "gantt-phone.png", DOCS_SHOT)
