"""The shift report on SQLite and PostgreSQL: JSON, CSV and the page, from machine events."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shopfloor.contract.payloads import (
    AlarmEvent,
    CycleEvent,
    JobStartEvent,
    MachineEvent,
    StateEvent,
)
from tests.clock import Clock
from tests.integration.api_keys import VIEWER, make
from tracker.bootstrap import Tracker
from tracker.domain import commands
from tracker.entrypoints.api import create_app
from tracker.entrypoints.mqtt_consumer import to_command

pytestmark = pytest.mark.integration

PLANT = """
machines:
  - {id: cnc-1, line: line-a}
  - {id: cnc-2, line: line-a}
  - {id: saw-1, line: line-b}
reasons:
  spindle: {name: Spindle fault, category: mechanical}
alarm_reasons: {SP-301: spindle}
calendars:
  two:
    timezone: Europe/Berlin
    shifts:
      - {days: mon-fri, start: "06:00", end: "14:00"}
      - {days: mon-fri, start: "14:00", end: "22:00"}
    breaks: [{days: mon-fri, start: "10:00", end: "10:30"}]
work_centers:
  mill: {machines: [cnc-1, cnc-2], calendar: two}
"""
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)  # Berlin is UTC+1: the first shift is 05:00-13:00Z


def at(hour: float) -> datetime:
    return MONDAY + timedelta(hours=hour)


def _events() -> list[tuple[float, MachineEvent]]:
    """cnc-1's first shift: setup, 100 parts (4 scrap), a 30-minute spindle fault."""
    state: Any = StateEvent
    return [
        (5, state(type="state", event_id="s1", state="SETUP")),
        (5.5, JobStartEvent(type="job_start", event_id="j1", order_id="SO-1", operation=10)),
        (5.5, state(type="state", event_id="s2", state="RUNNING")),
        (5.5, CycleEvent(type="cycle", event_id="c0", counter=0, scrap_counter=0, baseline=True)),
        (7, CycleEvent(type="cycle", event_id="c1", counter=60, scrap_counter=2)),
        (7, state(type="state", event_id="s3", state="DOWN")),
        (7, AlarmEvent(type="alarm", event_id="a1", code="SP-301", message="=spindle overload")),
        (7.5, state(type="state", event_id="s4", state="RUNNING")),
        (8.5, CycleEvent(type="cycle", event_id="c2", counter=96, scrap_counter=4)),
        (8.5, state(type="state", event_id="s5", state="IDLE")),
    ]


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker], tmp_path: Path, clock: Clock) -> Tracker:
    plant = tmp_path / "plant.yaml"
    plant.write_text(PLANT, encoding="utf-8")
    tracker = make(make_tracker, clock=clock, plant_file=plant)
    clock.now = at(4)
    tracker.bus.handle(
        commands.CreateOrder(
            order_id="SO-1",
            customer="ACME",
            product="bracket",
            quantity=500,
            due_at=at(7),  # late by a mile: the breakdown joins an incident
            token_hash="a" * 64,
            operations=(commands.OperationSpec(10, "mill", "cnc-1", 0, 60.0),),
        )
    )
    for hour, event in _events():
        clock.now = at(hour)
        cmd = to_command("cnc-1", event.model_copy(update={"ts": at(hour)}), at(hour))
        assert cmd is not None
        tracker.bus.handle(cmd)
    clock.now = at(10)  # 11:00 in Berlin: the first shift goes on
    return tracker


def _get(tracker: Tracker, path: str = "/api/v1/reports/shift", **params: str) -> Any:
    answer = TestClient(create_app(tracker)).get(path, params=params, headers={"X-API-Key": VIEWER})
    assert answer.status_code == 200, answer.text
    return answer


def test_the_report_of_a_past_shift_has_output_oee_losses_and_incidents(tracker: Tracker) -> None:
    found = _get(tracker, line="line-a", date="2026-03-02", shift="1").json()
    assert (found["from"], found["to"]) == ("2026-03-02T05:00:00Z", "2026-03-02T13:00:00Z")
    assert found["shift"] == 1 and found["timezone"] == "Europe/Berlin"
    assert [s["number"] for s in found["shifts"]] == [1, 2] and found["lines"] == [
        "line-a",
        "line-b",
    ]
    assert [m["machine_id"] for m in found["machines"]] == ["cnc-1", "cnc-2"]
    (out,) = found["output"]
    assert (out["order_id"], out["seq"], out["machine_id"]) == ("SO-1", 10, "cnc-1")
    assert (out["good"], out["scrap"], out["customer"]) == (96, 4, "ACME")
    cnc1 = found["machines"][0]
    # running 05:30-07:00 and 07:30-08:30 with the break 09:00-09:30Z outside: 150 min
    assert cnc1["run_min"] == 150 and cnc1["good"] == 96
    assert found["total"]["good"] == 96 and found["total"]["scrap"] == 4
    # idle from 08:30 with its job still bound (a stop nobody explained yet), then the fault
    assert [(b["reason"], b["name"], b["minutes"], b["stops"]) for b in found["losses"]] == [
        ("unclassified", "Not classified yet", 90, 1),
        ("spindle", "Spindle fault", 30, 1),
    ]
    assert [i["machine_id"] for i in found["incidents"]] == ["cnc-1"]


def test_the_default_is_the_current_shift_and_a_line_without_work_is_empty(
    tracker: Tracker, clock: Clock
) -> None:
    clock.now = at(14)  # 15:00 in Berlin: the second shift, 13:00-21:00Z
    found = _get(tracker, line="line-a").json()
    assert (found["date"], found["shift"], found["from"]) == (
        "2026-03-02",
        2,
        "2026-03-02T13:00:00Z",
    )
    assert found["output"] == [] and found["incidents"] == []
    # cnc-1 still idle with its job bound: an hour of this shift lost so far
    assert [(b["reason"], b["minutes"]) for b in found["losses"]] == [("unclassified", 60)]
    assert found["as_of"] == "2026-03-02T14:00:00Z"
    other = _get(tracker, line="line-b", date="2026-03-02").json()
    # saw-1 has no calendar: its "shift" is the day, and it was never heard from
    assert other["timezone"] == "UTC" and other["total"]["run_min"] == 0


def test_the_csv_is_a_file_with_every_block_and_no_formulas(tracker: Tracker) -> None:
    answer = _get(tracker, "/api/v1/reports/shift.csv", line="line-a", date="2026-03-02")
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"] == (
        'attachment; filename="shift-report-line-a-2026-03-02-1.csv"'
    )
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0][:3] == ["line", "date", "shift"] and rows[1][:3] == ["line-a", "2026-03-02", "1"]
    machines = {r[0]: r for r in rows if r and r[0] in ("cnc-1", "total")}
    assert set(machines) == {"cnc-1", "total"}
    assert ["SO-1", "ACME", "bracket", "10"] == next(r for r in rows if r[:1] == ["SO-1"])[:4]
    assert next(r for r in rows if r[:1] == ["spindle"])[:3] == ["spindle", "Spindle fault", "30.0"]
    incident = next(r for r in rows if r[1:2] == ["cnc-1"])
    assert not any(cell.startswith("=") for cell in incident)  # the alarm text was "=spindle..."


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"line": "nope"}, "unknown line 'nope' (lines: line-a, line-b)"),
        ({"line": "line-a", "date": "2026-03-01"}, "2026-03-01 has no shift in calendar two"),
        ({"line": "line-a", "date": "2026-03-02", "shift": "3"}, "has 2 shifts"),
        ({"shift": "1"}, "a shift number goes with a date"),
        ({"date": "1900-01-01"}, "greater than or equal"),
        ({"shift": "11", "date": "2026-03-02"}, "less than or equal"),
    ],
)
def test_bad_queries_are_422_with_a_reason(
    tracker: Tracker, params: dict[str, str], detail: str
) -> None:
    client = TestClient(create_app(tracker))
    assert client.get("/api/v1/reports/shift").status_code == 401
    for path in ("/api/v1/reports/shift", "/api/v1/reports/shift.csv"):
        answer = client.get(path, params=params, headers={"X-API-Key": VIEWER})
        assert answer.status_code == 422 and detail in answer.text, answer.text


def test_the_page_is_served_with_its_assets(tracker: Tracker) -> None:
    client = TestClient(create_app(tracker))
    page = client.get("/reports/shift")
    assert page.status_code == 200 and "/static/shift_report.js" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("shift_report.js", "shift_report.css"):
        assert client.get(f"/static/{asset}").status_code == 200
    assert "@media print" in client.get("/static/shift_report.css").text
