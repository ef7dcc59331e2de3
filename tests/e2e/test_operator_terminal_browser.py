"""The operator terminal in a real headless chromium on a phone-sized screen, on a real tracker
and broker: a key of the operator role scoped to one machine starts a job from the dispatch
list, the machine runs, goes DOWN and then IDLE (MQTT events), the operator classifies the stop
and reports scrap; the API shows who did what and when, and OEE quality counts the scrap."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser_driver import ARTIFACTS, run_driver
from tests.e2e.test_board_browser import Machines
from tests.processes import served_tracker
from tests.services import Mosquitto
from tracker.auth.api_keys import hash_key

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "browser" / "operator_test.js"
DOCS_SHOT = ROOT / "docs" / "operator-terminal.png"
ORDER = "SO-2001"
TERMINAL_KEY = "terminal-saw-1-" + "t" * 24
OTHER_KEY = "terminal-weld-1-" + "w" * 24
PLANT = """
machines: [saw-1, weld-1]
work_centers:
  cut: [saw-1]
  weld: [weld-1]
reasons:
  spindle: {name: Spindle fault, category: mechanical}
  material-jam: {name: Material jammed, category: material}
  burr: {name: Burr on the edge, category: quality}
  dimension: {name: Out of tolerance, category: quality}
"""


@pytest.fixture
def tracker(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[dict[str, str]]:
    plant = tmp_path / "plant.yaml"
    plant.write_text(PLANT, encoding="utf-8")
    keys = [
        {"name": "terminal saw-1", "role": "operator", "key_sha256": hash_key(TERMINAL_KEY),
         "machines": ["saw-1"]},
        {"name": "terminal weld-1", "role": "operator", "key_sha256": hash_key(OTHER_KEY),
         "machines": ["weld-1"]},
    ]  # fmt: skip
    settings = {
        "SHOPFLOOR_PLANT_FILE": str(plant),
        "SHOPFLOOR_API_KEYS": json.dumps(keys),
        "SHOPFLOOR_DOWNTIME_MIN_S": "1",  # the breakdown below lasts 2 s
    }
    with served_tracker(mosquitto, tmp_path, "e2e-operator", settings) as served:
        yield served


def _run_then_stop(broker: Mosquitto) -> None:
    """saw-1 makes 5 parts, breaks down for 2 s, then waits IDLE with its job."""
    machines = Machines(broker, prefix="op")
    try:
        machines.send("saw-1", type="state", state="RUNNING")
        for counter in range(1, 6):
            time.sleep(0.05)
            machines.send("saw-1", type="cycle", counter=counter)
        machines.send("saw-1", type="state", state="DOWN")
        time.sleep(2)
        machines.send("saw-1", type="state", state="IDLE")
    finally:
        machines.close()


def _get(api: str, key: str, path: str, **params: str) -> Any:
    answer = httpx.get(f"{api}{path}", params=params, headers={"X-API-Key": key})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_an_operator_runs_a_job_and_classifies_its_stop_on_the_terminal(
    browser_tools: tuple[str, str], tracker: dict[str, str], mosquitto: Mosquitto
) -> None:
    node, chromium = browser_tools
    api, admin = tracker["api"], tracker["key"]
    started = datetime.now(UTC)
    body = {
        "order_id": ORDER,
        "customer": "ACME",
        "product": "bracket",
        "quantity": 20,
        "due_at": (started + timedelta(hours=6)).isoformat(),
        "operations": [
            {"seq": 10, "name": "cut", "machine": "saw-1", "setup_s": 0, "cycle_s": 60},
            {"seq": 20, "name": "weld", "machine": "weld-1", "setup_s": 0, "cycle_s": 60},
        ],
    }
    created = httpx.post(f"{api}/api/v1/orders", json=body, headers={"X-API-Key": admin})
    assert created.status_code == 201, created.text

    def answer(line: str) -> None:
        if line == "job-started":
            threading.Thread(target=_run_then_stop, args=(mosquitto,), daemon=True).start()

    settings = {
        "BASE_URL": api,
        "MACHINE": "saw-1",
        "ORDER_ID": ORDER,
        "OPERATOR_KEY": TERMINAL_KEY,
        "OTHER_KEY": OTHER_KEY,
        "CHROMIUM": chromium,
    }
    log = run_driver(node, DRIVER, settings, answer, timeout_s=150)
    assert "another machine's key is refused" in log
    assert "the terminal in German" in log, log

    # what the terminal did, as the API has it: who, when, and the scrap in OEE quality
    (down,) = [
        r for r in _get(api, admin, "/api/v1/downtime", machine="saw-1") if r["state"] == "DOWN"
    ]
    assert (down["reason"], down["category"], down["source"], down["classified_by"]) == (
        "spindle",
        "mechanical",
        "person",
        "terminal saw-1",
    )
    assert started <= datetime.fromisoformat(down["classified_at"]) <= datetime.now(UTC)
    actions = _get(api, admin, "/api/v1/machines/saw-1/actions")
    assert [(a["action"], a["actor"], a["role"]) for a in reversed(actions)] == [
        ("start", "terminal saw-1", "operator"),
        ("classify", "terminal saw-1", "operator"),
        ("scrap", "terminal saw-1", "operator"),
    ]
    assert (actions[0]["quantity"], actions[0]["reason"], actions[0]["order_id"]) == (
        2,
        "burr",
        ORDER,
    )
    window = {"machine": "saw-1", "from": started.isoformat(), "to": datetime.now(UTC).isoformat()}
    (saw1,) = _get(api, admin, "/api/v1/oee", **window)["machines"]
    assert (saw1["good"], saw1["scrap"], saw1["quality"]) == (5, 2, round(5 / 7, 4))
    # the README's picture: refreshed on request, or made when missing
    if os.environ.get("SHOPFLOOR_UPDATE_SCREENSHOTS") or not DOCS_SHOT.exists():
        shutil.copyfile(ARTIFACTS / "operator-terminal.png", DOCS_SHOT)
