"""`GET /api/v1/board` on both databases: every declared machine in id order (one never heard
from is UNKNOWN), a stopped machine's alarm and expected return, the demo's speed; and `/`
leads to the board."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.clock import T0, Clock
from tests.integration.api_keys import ADMIN, KEYS, VIEWER, as_
from tracker.bootstrap import Tracker
from tracker.domain import commands

pytestmark = pytest.mark.integration

MIN = timedelta(minutes=1)
PLANT = """
machines: [weld-1, saw-1, paint-9]
reasons:
  material-jam: {name: Material jammed, category: material}
alarm_reasons: {WF-204: material-jam}
"""


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker], tmp_path: Path) -> Tracker:
    plant = tmp_path / "plant.yaml"
    plant.write_text(PLANT, encoding="utf-8")
    clock = Clock()
    clock.now = T0 + 60 * MIN
    return make_tracker(
        ADMIN,
        clock=clock,
        api_keys=KEYS,
        plant_file=plant,
        demo_speed=60.0,
        down_allowance_s=600.0,
    )


def _state(machine: str, state: str, minute: float) -> commands.SetMachineState:
    return commands.SetMachineState(
        machine, f"{machine}-{state}-{minute}", state, T0 + minute * MIN
    )


def _alarm(machine: str, minute: float) -> commands.RecordAlarm:
    at = T0 + minute * MIN
    return commands.RecordAlarm(machine, f"a-{machine}-{minute}", "WF-204", "wire feed blocked", at)


def test_cards_show_every_machine_in_order_with_a_stops_alarm_and_expected_return(
    tracker: Tracker, client: TestClient
) -> None:
    tracker.bus.handle_batch(
        [
            _state("weld-1", "RUNNING", 0),
            _state("weld-1", "DOWN", 10),  # a WF-204 repair took 8 minutes
            _alarm("weld-1", 10),
            _state("weld-1", "RUNNING", 18),
            _state("weld-1", "DOWN", 50),  # and again: typically back 8 minutes after
            _alarm("weld-1", 50.2),
            _state("saw-1", "DOWN", 55),  # no alarm, no history: the plan's assumption
            _state("drill-7", "RUNNING", 5),  # heard from, not in the plant file
            # OFFLINE makes no downtime record: its alarm is the one raised near the stop
            commands.RecordAlarm("drill-7", "d1", "LC-017", "light curtain", T0 + 56 * MIN),
            _state("drill-7", "OFFLINE", 56.5),
        ]
    )
    found = client.get("/api/v1/board", headers=as_(VIEWER))
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["speed"] == 60.0
    cards = {c["machine_id"]: c for c in body["machines"]}
    assert [c["machine_id"] for c in body["machines"]] == ["drill-7", "paint-9", "saw-1", "weld-1"]
    assert (cards["paint-9"]["state"], cards["paint-9"]["reported"]) == ("UNKNOWN", False)
    assert cards["paint-9"]["declared"] and not cards["drill-7"]["declared"]

    weld = cards["weld-1"]
    assert weld["state"] == "DOWN"
    assert (weld["alarm"]["code"], weld["alarm"]["text"]) == ("WF-204", "wire feed blocked")
    assert (weld["expected_basis"], weld["repairs"], weld["typical_repair_s"]) == (
        "repairs",
        1,
        480.0,
    )
    assert weld["expected_back"].startswith((T0 + 58 * MIN).isoformat()[:19])

    saw = cards["saw-1"]
    assert saw["alarm"] is None and saw["expected_basis"] == "plan"
    # the plan's allowance (600 s) from the stop's start; the plan (made at the test clock's
    # now) has it back 600 s after its making
    assert saw["expected_back"].startswith((T0 + 65 * MIN).isoformat()[:19])
    assert saw["plan_back"].startswith((T0 + 70 * MIN).isoformat()[:19])
    drill = cards["drill-7"]
    assert (drill["state"], drill["alarm"]["code"], drill["alarm"]["text"]) == (
        "OFFLINE",
        "LC-017",
        "light curtain",
    )
    assert drill["alarm"]["raised_at"].startswith((T0 + 56 * MIN).isoformat()[:19])
    assert cards["paint-9"]["expected_back"] is None


def test_the_board_needs_a_key_and_the_root_leads_to_the_board(client: TestClient) -> None:
    assert client.get("/api/v1/board").status_code == 401
    root = client.get("/", follow_redirects=False)
    assert (root.status_code, root.headers["location"]) == (307, "/board")
    assert client.get("/").text.startswith("<!doctype html>")
