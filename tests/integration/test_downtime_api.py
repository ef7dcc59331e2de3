"""Downtime end to end on both databases: machine events through the bus make records (an
alarm gives a reason, a short stop makes none, IDLE with a job bound counts), then the API
lists them, draws the Pareto and takes an operator's reason only for its own machines."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.clock import T0, Clock
from tests.integration.api_keys import ADMIN, KEYS, VIEWER, as_
from tracker.auth.api_keys import hash_key
from tracker.bootstrap import Tracker
from tracker.domain import commands

pytestmark = pytest.mark.integration

MIN = timedelta(minutes=1)
OLGA = "operator-key-" + "o" * 20  # may work saw-1 only
PLANT = """
machines: [saw-1, saw-2]
work_centers:
  cut: [saw-1, saw-2]
reasons:
  spindle: {name: Spindle fault, category: mechanical}
  no-operator: {name: No operator, category: no_operator}
alarm_reasons: {SP-301: spindle}
"""


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker], tmp_path: Path) -> Tracker:
    plant = tmp_path / "plant.yaml"
    plant.write_text(PLANT, encoding="utf-8")
    olga = {"name": "olga", "role": "operator", "key_sha256": hash_key(OLGA), "machines": ["saw-1"]}
    clock = Clock()
    clock.now = T0 + 60 * MIN
    return make_tracker(ADMIN, clock=clock, api_keys=[*KEYS, olga], plant_file=plant)


def _state(machine: str, state: str, minute: float) -> commands.SetMachineState:
    return commands.SetMachineState(
        machine, f"{machine}-{state}-{minute}", state, T0 + minute * MIN
    )


def _stops(tracker: Tracker) -> None:
    order = commands.CreateOrder(
        order_id="SO-1",
        customer="ACME",
        product="bracket",
        quantity=5,
        due_at=T0 + timedelta(days=2),
        token_hash="a" * 64,
        operations=(commands.OperationSpec(10, "cut", "saw-2", 0, 60),),
    )
    tracker.bus.handle(order)
    tracker.bus.handle_batch(
        [
            _state("saw-1", "RUNNING", 0),
            _state("saw-1", "DOWN", 10),  # a breakdown of 8 minutes, its alarm right after
            commands.RecordAlarm("saw-1", "a1", "SP-301", "spindle bearing hot", T0 + 10 * MIN),
            _state("saw-1", "RUNNING", 18),
            _state("saw-1", "DOWN", 30),  # 30 s: shorter than the minimum, no record
            _state("saw-1", "RUNNING", 30.5),
            _state("saw-2", "IDLE", 0),
            commands.StartJob("saw-2", "s1", "SO-1", 10, T0 + 20 * MIN),  # waits 5 minutes
            _state("saw-2", "SETUP", 25),
        ]
    )


def test_stops_become_records_with_reasons_and_a_pareto(
    tracker: Tracker, client: TestClient
) -> None:
    _stops(tracker)
    found = client.get("/api/v1/downtime", headers=as_(VIEWER)).json()
    assert [(r["machine_id"], r["state"], r["lost_s"]) for r in found] == [
        ("saw-2", "IDLE", 300.0),
        ("saw-1", "DOWN", 480.0),
    ]
    assert (found[0]["order_id"], found[0]["seq"], found[0]["reason"]) == ("SO-1", 10, None)
    assert (found[1]["alarm_code"], found[1]["reason"], found[1]["source"]) == (
        "SP-301",
        "spindle",
        "alarm",
    )
    only = client.get("/api/v1/downtime?machine=saw-1&reason=spindle", headers=as_(VIEWER))
    assert [r["id"] for r in only.json()] == [found[1]["id"]]

    window = {"from": T0.isoformat(), "to": (T0 + 60 * MIN).isoformat()}
    pareto = client.get("/api/v1/downtime/pareto", params=window, headers=as_(VIEWER)).json()
    assert (pareto["by"], pareto["from"]) == ("reason", "2026-03-02T08:00:00Z")
    assert pareto["bars"] == [
        {"key": "spindle", "minutes": 8.0, "count": 1},
        {"key": "unclassified", "minutes": 5.0, "count": 1},
    ]
    by_machine = client.get(
        "/api/v1/downtime/pareto", params={**window, "by": "machine"}, headers=as_(VIEWER)
    ).json()
    assert [b["key"] for b in by_machine["bars"]] == ["saw-1", "saw-2"]


def test_an_operator_classifies_only_the_stops_of_its_own_machines(
    tracker: Tracker, client: TestClient
) -> None:
    _stops(tracker)
    saw2, saw1 = (r["id"] for r in client.get("/api/v1/downtime", headers=as_(VIEWER)).json())
    body = {"reason": "no-operator", "comment": "shift change"}
    refused = client.put(f"/api/v1/downtime/{saw2}/reason", json=body, headers=as_(OLGA))
    assert refused.status_code == 403
    assert (
        client.put(f"/api/v1/downtime/{saw1}/reason", json=body, headers=as_(VIEWER)).status_code
        == 403
    )

    taken = client.put(f"/api/v1/downtime/{saw1}/reason", json=body, headers=as_(OLGA))
    assert taken.status_code == 200
    record = taken.json()
    assert (record["reason"], record["category"], record["source"]) == (
        "no-operator",
        "no_operator",
        "person",
    )
    assert (record["classified_by"], record["comment"]) == ("olga", "shift change")

    unknown = client.put(f"/api/v1/downtime/{saw1}/reason", json={"reason": "x"}, headers=as_(OLGA))
    assert unknown.status_code == 422
    assert "unknown reason 'x' (reasons: no-operator, spindle)" in unknown.text
    missing = client.put("/api/v1/downtime/999/reason", json=body, headers=as_(OLGA))
    assert missing.status_code == 404


def test_stops_spanning_transactions_are_closed_dropped_and_shown_open(
    tracker: Tracker, client: TestClient
) -> None:
    # each event in its own transaction: the records are read back from the database
    for cmd in (
        _state("saw-1", "DOWN", 10),
        commands.RecordAlarm("saw-1", "a1", "SP-301", "spindle bearing hot", T0 + 11 * MIN),
        _state("saw-1", "RUNNING", 20),
        _state("saw-1", "DOWN", 30),
        _state("saw-1", "RUNNING", 30.5),  # short: deleted
        _state("saw-2", "DOWN", 40),  # still down at minute 60: open, 20 minutes so far
        _state("saw-1", "DOWN", 59.5),  # 30 s so far: not yet downtime
    ):
        tracker.bus.handle(cmd)
    found = client.get("/api/v1/downtime", headers=as_(VIEWER)).json()
    assert [(r["machine_id"], r["ended_at"], r["lost_s"], r["reason"]) for r in found] == [
        ("saw-2", None, 1200.0, None),
        ("saw-1", "2026-03-02T08:20:00Z", 600.0, "spindle"),
    ]
