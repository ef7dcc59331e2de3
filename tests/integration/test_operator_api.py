"""The operator terminal's API on both databases: a key of the operator role scoped to one
machine reads its terminal, starts a job, classifies a stop and reports scrap (OEE quality
falls); every action is in the machine's log with who and when; other machines refuse it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

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
  burr: {name: Burr on the edge, category: quality}
"""


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker], tmp_path: Path, clock: Clock) -> Tracker:
    plant = tmp_path / "plant.yaml"
    plant.write_text(PLANT, encoding="utf-8")
    olga = {"name": "olga", "role": "operator", "key_sha256": hash_key(OLGA), "machines": ["saw-1"]}
    tracker = make_tracker(ADMIN, clock=clock, api_keys=[*KEYS, olga], plant_file=plant)
    tracker.bus.handle(
        commands.CreateOrder(
            order_id="SO-1",
            customer="ACME",
            product="bracket",
            quantity=10,
            due_at=T0 + timedelta(days=2),
            token_hash="a" * 64,
            operations=(commands.OperationSpec(10, "cut", "saw-1", 0, 60),),
        )
    )
    return tracker


def _machine_runs_then_stops(tracker: Tracker, clock: Clock) -> None:
    """saw-1 makes 4 parts in minutes 2-5, is DOWN from 6 to 10, then IDLE with its job."""
    events: list[Any] = [
        commands.SetMachineState("saw-1", "r", "RUNNING", T0 + MIN),
        commands.RecordCycle("saw-1", "c0", 0, T0 + MIN, baseline=True),
        *(commands.RecordCycle("saw-1", f"c{n}", n, T0 + (1 + n) * MIN) for n in range(1, 5)),
        commands.SetMachineState("saw-1", "d", "DOWN", T0 + 6 * MIN),
        commands.SetMachineState("saw-1", "i", "IDLE", T0 + 10 * MIN),
    ]
    for event in events:
        clock.now = event.at
        tracker.bus.handle(event)
    clock.now = T0 + 12 * MIN


def _quality(client: TestClient) -> float | None:
    window = {"machine": "saw-1", "from": T0.isoformat(), "to": (T0 + 12 * MIN).isoformat()}
    found = client.get("/api/v1/oee", params=window, headers=as_(VIEWER)).json()
    (saw1,) = found["machines"]
    return saw1["quality"]  # type: ignore[no-any-return]


def test_an_operator_runs_its_machine_from_the_terminal(
    tracker: Tracker, client: TestClient, clock: Clock
) -> None:
    empty = client.get("/api/v1/machines/saw-1/terminal", headers=as_(OLGA)).json()
    assert (empty["state"], empty["job"], empty["stops"]) == (None, None, [])
    assert [r["code"] for r in empty["reasons"]] == ["spindle", "burr"]

    clock.now = T0 + MIN
    start = {"action": "start", "order_id": "SO-1", "operation": 10}
    assert client.post("/api/v1/machines/saw-1/job", json=start, headers=as_(OLGA)).is_success
    _machine_runs_then_stops(tracker, clock)

    seen = client.get("/api/v1/machines/saw-1/terminal", headers=as_(OLGA)).json()
    assert seen["state"] == "IDLE"
    job = seen["job"]
    assert (job["order_id"], job["good"], job["scrap"], job["bound"]) == ("SO-1", 4, 0, True)
    idle, down = seen["stops"]  # the open stop first
    assert (idle["state"], idle["ended_at"], down["state"], down["reason"]) == (
        "IDLE",
        None,
        "DOWN",
        None,
    )

    clock.now = T0 + 13 * MIN
    put = client.put(
        f"/api/v1/downtime/{down['id']}/reason", json={"reason": "spindle"}, headers=as_(OLGA)
    )
    assert put.status_code == 200
    record = put.json()
    assert (record["reason"], record["classified_by"], record["classified_at"]) == (
        "spindle",
        "olga",
        "2026-03-02T08:13:00Z",
    )

    assert _quality(client) == 1.0
    clock.now = T0 + 14 * MIN
    scrap = client.post(
        "/api/v1/machines/saw-1/scrap", json={"quantity": 1, "reason": "burr"}, headers=as_(OLGA)
    )
    assert scrap.status_code == 200, scrap.text
    assert scrap.json() == {
        "machine_id": "saw-1",
        "order_id": "SO-1",
        "operation": 10,
        "quantity": 1,
        "reason": "burr",
        "good": 4,
        "scrap": 1,
    }
    assert _quality(client) == 0.8  # 4 good of 5 made

    log = client.get("/api/v1/machines/saw-1/actions", headers=as_(VIEWER)).json()
    assert [(a["action"], a["actor"], a["role"], a["at"]) for a in log] == [
        ("scrap", "olga", "operator", "2026-03-02T08:14:00Z"),
        ("classify", "olga", "operator", "2026-03-02T08:13:00Z"),
        ("start", "olga", "operator", "2026-03-02T08:01:00Z"),
    ]
    assert (log[0]["quantity"], log[0]["reason"], log[0]["order_id"], log[0]["operation"]) == (
        1,
        "burr",
        "SO-1",
        10,
    )
    assert (log[1]["stop_id"], log[1]["reason"]) == (down["id"], "spindle")


def test_a_terminal_key_is_refused_on_other_machines_and_errors_say_why(
    tracker: Tracker, client: TestClient
) -> None:
    scrap = {"quantity": 2, "reason": "burr"}
    for method, path, body in (
        ("GET", "/api/v1/machines/saw-2/terminal", None),
        ("POST", "/api/v1/machines/saw-2/scrap", scrap),
        ("POST", "/api/v1/machines/saw-2/job", {"action": "end"}),
    ):
        refused = client.request(method, path, json=body, headers=as_(OLGA))
        assert refused.status_code == 403, path
        assert refused.json()["detail"] == "this key may not work machine saw-2"
    viewer = client.get("/api/v1/machines/saw-1/terminal", headers=as_(VIEWER))
    assert viewer.status_code == 403 and "needs the operator role" in viewer.text

    missing = client.get("/api/v1/machines/lathe-9/terminal", headers=as_(ADMIN))
    assert missing.status_code == 404
    no_job = client.post("/api/v1/machines/saw-2/scrap", json=scrap, headers=as_(ADMIN))
    assert no_job.status_code == 409 and "has worked no job" in no_job.text
    unknown = client.post(
        "/api/v1/machines/saw-1/scrap", json={"quantity": 1, "reason": "x"}, headers=as_(OLGA)
    )
    assert unknown.status_code == 422 and "unknown reason 'x'" in unknown.text
    named = {"quantity": 1, "reason": "burr", "order_id": "SO-9", "operation": 10}
    no_order = client.post("/api/v1/machines/saw-1/scrap", json=named, headers=as_(OLGA))
    assert no_order.status_code == 422 and "unknown order SO-9" in no_order.text
    assert client.get("/api/v1/machines/saw-2/actions", headers=as_(VIEWER)).json() == []


def test_the_terminal_page_and_its_files_are_served_with_the_pages_policy(
    client: TestClient,
) -> None:
    page = client.get("/operator/saw-1")
    assert page.status_code == 200 and "Operator terminal" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "/static/operator.js" in page.text and "/static/operator.css" in page.text
    for name, kind in (("operator.js", "text/javascript"), ("operator.css", "text/css")):
        asset = client.get(f"/static/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind)
    assert client.get("/operator/saw%201").status_code == 422  # a machine id has no spaces
    assert client.get(f"/operator/{'m' * 101}").status_code == 422
