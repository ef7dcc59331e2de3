"""A shift's story on two screens in a real headless chromium, on a real tracker and broker:
an operator starts a job at saw-1's terminal, the saw runs and breaks down, the operator
classifies the stop; the supervisor sees one incident with the order it puts at risk,
acknowledges it once, and sees saw-1's OEE tile and the downtime Pareto change."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser_driver import run_driver
from tests.e2e.test_board_browser import Machines
from tests.processes import served_tracker
from tests.services import Mosquitto
from tracker.auth.api_keys import hash_key

pytestmark = pytest.mark.e2e

DRIVER = Path(__file__).resolve().parents[1] / "browser" / "shift_story_test.js"
ORDER = "SO-3001"
TERMINAL_KEY = "terminal-saw-1-" + "k" * 24
SUPERVISOR_KEY = "supervisor-sam-" + "s" * 24
PLANT = """
machines: [saw-1, weld-1]
reasons:
  spindle: {name: Spindle fault, category: mechanical}
  burr: {name: Burr on the edge, category: quality}
"""


@pytest.fixture
def tracker(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[dict[str, str]]:
    plant = tmp_path / "plant.yaml"
    plant.write_text(PLANT, encoding="utf-8")
    keys = [
        {"name": "terminal saw-1", "role": "operator", "key_sha256": hash_key(TERMINAL_KEY),
         "machines": ["saw-1"]},
        {"name": "sam", "role": "supervisor", "key_sha256": hash_key(SUPERVISOR_KEY)},
    ]  # fmt: skip
    settings = {
        "SHOPFLOOR_PLANT_FILE": str(plant),
        "SHOPFLOOR_API_KEYS": json.dumps(keys),
        "SHOPFLOOR_DOWNTIME_MIN_S": "1",  # the breakdown is a downtime record at once
        "SHOPFLOOR_DOWN_ALLOWANCE_S": "0",  # the breakdown itself puts the order at risk
    }
    with served_tracker(mosquitto, tmp_path, "e2e-story", settings) as served:
        yield served


def _run_then_break(machines: Machines) -> None:
    """saw-1 makes 5 parts, then breaks down with its alarm and stays DOWN."""
    machines.send("saw-1", type="state", state="RUNNING")
    for counter in range(1, 6):
        time.sleep(0.05)
        machines.send("saw-1", type="cycle", counter=counter)
    machines.send("saw-1", type="state", state="DOWN")
    machines.send("saw-1", type="alarm", code="SP-301", message="spindle overload")


def _get(api: str, path: str, **params: str) -> Any:
    answer = httpx.get(f"{api}{path}", params=params, headers={"X-API-Key": SUPERVISOR_KEY})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_an_operators_stop_reaches_the_supervisor_as_one_incident(
    browser_tools: tuple[str, str], tracker: dict[str, str], mosquitto: Mosquitto
) -> None:
    node, chromium = browser_tools
    api = tracker["api"]
    body = {
        "order_id": ORDER,
        "customer": "ACME",
        "product": "bracket",
        "quantity": 20,
        "due_at": (datetime.now(UTC) + timedelta(hours=4)).isoformat(),
        "operations": [
            {"seq": 10, "name": "cut", "machine": "saw-1", "setup_s": 0, "cycle_s": 60},
            {"seq": 20, "name": "weld", "machine": "weld-1", "setup_s": 0, "cycle_s": 60},
        ],
    }
    created = httpx.post(f"{api}/api/v1/orders", json=body, headers={"X-API-Key": tracker["key"]})
    assert created.status_code == 201, created.text

    machines = Machines(mosquitto, prefix="story")

    def answer(line: str) -> None:
        if line == "job-started":
            threading.Thread(target=_run_then_break, args=(machines,), daemon=True).start()
        if line == "repair-please":
            machines.send("saw-1", type="state", state="RUNNING")

    settings = {
        "BASE_URL": api,
        "ORDER_ID": ORDER,
        "OPERATOR_KEY": TERMINAL_KEY,
        "SUPERVISOR_KEY": SUPERVISOR_KEY,
        "CHROMIUM": chromium,
    }
    try:
        log = run_driver(node, DRIVER, settings, answer)
    finally:
        machines.close()
    assert "the Pareto shows the operator's reason" in log
    assert "one acknowledgement took the incident and its order's alert" in log

    # as the API has it: one incident, acknowledged once, its order's alert with it
    (incident,) = _get(api, "/api/v1/incidents", state="all")
    assert (incident["machine_id"], incident["reason_code"]) == ("saw-1", "SP-301")
    assert (incident["acked_by"], incident["ack_comment"]) == (
        "sam at the board",
        "maintenance on the way",
    )
    assert [(o["order_id"], o["acked_by"]) for o in incident["orders"]] == [
        (ORDER, "sam at the board")
    ]
    (stop,) = [s for s in _get(api, "/api/v1/downtime", machine="saw-1") if s["state"] == "DOWN"]
    assert (stop["reason"], stop["classified_by"]) == ("spindle", "terminal saw-1")
    actions = _get(api, "/api/v1/machines/saw-1/actions")
    assert [a["action"] for a in reversed(actions)] == ["start", "classify"]
