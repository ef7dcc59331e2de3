"""`GET /api/v1/oee` on SQLite and PostgreSQL: machine events through the bus, figures by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shopfloor.contract.payloads import CycleEvent, JobStartEvent, MachineEvent, StateEvent
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
calendars:
  day:
    shifts: [{days: mon-fri, start: "06:00", end: "14:00"}]
    breaks: [{days: mon-fri, start: "10:00", end: "10:30"}]
work_centers:
  mill: {machines: [cnc-1, cnc-2], calendar: day}
"""
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)


def at(hour: float) -> datetime:
    return MONDAY + timedelta(hours=hour)


def _events() -> list[tuple[float, MachineEvent]]:
    """A shift of cnc-1: setup, a job with scrap, a breakdown, an hour offline, a restart."""
    state: Any = StateEvent
    return [
        (6, state(type="state", event_id="s1", state="SETUP")),
        (6.5, JobStartEvent(type="job_start", event_id="j1", order_id="SO-1", operation=10)),
        (6.5, state(type="state", event_id="s2", state="RUNNING")),
        (6.5, CycleEvent(type="cycle", event_id="c0", counter=0, scrap_counter=0, baseline=True)),
        (8, CycleEvent(type="cycle", event_id="c1", counter=80, scrap_counter=5)),
        (8, state(type="state", event_id="s3", state="DOWN")),
        (8.5, state(type="state", event_id="s4", state="RUNNING")),
        (11, CycleEvent(type="cycle", event_id="c2", counter=200, scrap_counter=10)),
        (11, state(type="state", event_id="s5", state="OFFLINE")),
        # the machine restarts: its counters start again from 0
        (12, state(type="state", event_id="s6", state="RUNNING")),
        (13, CycleEvent(type="cycle", event_id="c3", counter=40, scrap_counter=0)),
    ]


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker], tmp_path: Path, clock: Clock) -> Tracker:
    plant = tmp_path / "plant.yaml"
    plant.write_text(PLANT, encoding="utf-8")
    tracker = make(make_tracker, clock=clock, plant_file=plant)
    clock.now = at(5)
    tracker.bus.handle(
        commands.CreateOrder(
            order_id="SO-1",
            customer="ACME",
            product="part",
            quantity=1000,
            due_at=at(48),
            token_hash="a" * 64,
            operations=(commands.OperationSpec(10, "mill", "cnc-1", 0, 60.0),),
        )
    )
    for hour, event in _events():
        clock.now = at(hour)
        cmd = to_command("cnc-1", event.model_copy(update={"ts": at(hour)}), at(hour))
        assert cmd is not None
        tracker.bus.handle(cmd)
    clock.now = at(13)
    return tracker


def _get(tracker: Tracker, **params: str) -> Any:
    # no lifespan: the tracker is not started, nothing but these events moves its machines
    answer = TestClient(create_app(tracker)).get(
        "/api/v1/oee", params=params, headers={"X-API-Key": VIEWER}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_oee_of_a_shift_matches_the_hand_computation(tracker: Tracker) -> None:
    found = _get(tracker)  # the current shift, 06:00-14:00, counted up to 13:00
    assert (found["from"], found["to"]) == ("2026-03-02T06:00:00Z", "2026-03-02T14:00:00Z")
    (cnc1, cnc2) = found["machines"]
    # 06:00-13:00 less the break: 390 working min; 30 of setup are a planned stop
    assert cnc1["planned_min"] == 360 and cnc1["planned_stop_min"] == 30
    # running 06:30-08:00, 08:30-11:00 (less the break) and 12:00-13:00
    assert cnc1["run_min"] == 270
    assert cnc1["losses_min"] == {
        "unplanned_stop": 30,  # down 08:00-08:30
        "unknown": 60,  # offline 11:00-12:00
        "performance": 20,  # 250 parts at 1 min in 270 min
        "quality": 10,  # 10 scrapped
    }
    assert (cnc1["good"], cnc1["scrap"], cnc1["effective_min"]) == (240, 10, 240)
    assert cnc1["availability"] == 0.75 and cnc1["quality"] == 0.96
    assert cnc1["performance"] == round(250 / 270, 4) and cnc1["oee"] == round(240 / 360, 4)
    assert cnc1["biggest_loss"] == "unknown" and cnc1["line"] == "line-a"
    # cnc-2 was never heard from: all its working time is unknown, none of it running
    assert cnc2["planned_min"] == 390 and cnc2["losses_min"]["unknown"] == 390
    (mill,) = found["work_centers"]
    assert mill["planned_min"] == 750 and mill["availability"] == round(270 / 750, 4)
    (line,) = found["lines"]
    assert line["line"] == "line-a" and line["oee"] == round(240 / 750, 4)
    assert found["total"]["oee"] == line["oee"]


def test_oee_per_day_and_per_shift_with_filters(tracker: Tracker) -> None:
    found = _get(
        tracker, machine="cnc-1", **{"from": "2026-03-01T00:00:00Z", "to": "2026-03-03T00:00:00Z"}
    )
    assert found["total"]["run_min"] == 270 and len(found["machines"]) == 1
    by_day = _get(
        tracker,
        work_center="mill",
        group_by="day",
        **{"from": "2026-03-01T00:00:00Z", "to": "2026-03-03T00:00:00Z"},
    )
    sunday, monday = by_day["periods"]
    assert sunday["total"]["planned_min"] == 0 and sunday["total"]["oee"] is None
    assert monday["total"] == by_day["total"]
    by_shift = _get(tracker, line="line-a", group_by="shift")
    (shift,) = by_shift["periods"]
    assert shift["from"] == "2026-03-02T06:00:00Z" and shift["total"]["run_min"] == 270


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "at most 31 days"),
        ({"from": "2026-03-02T08:00:00Z", "to": "2026-03-02T07:00:00Z"}, "must be after"),
        ({"to": "2026-03-02T07:00:00Z"}, "`from` is required"),
        ({"from": "2026-03-02T08:00:00"}, "timezone"),
        ({"machine": "nope"}, "unknown machine"),
        ({"work_center": "nope"}, "unknown work center 'nope' (work centers: mill)"),
        ({"line": "nope"}, "unknown line 'nope' (lines: line-a)"),
        ({"group_by": "week"}, "shift"),
    ],
)
def test_bad_queries_are_422_with_a_reason(
    tracker: Tracker, params: dict[str, str], detail: str
) -> None:
    client = TestClient(create_app(tracker))
    assert client.get("/api/v1/oee").status_code == 401
    answer = client.get("/api/v1/oee", params=params, headers={"X-API-Key": VIEWER})
    assert answer.status_code == 422 and detail in answer.text, answer.text
