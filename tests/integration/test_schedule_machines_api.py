"""The Gantt's machine rows on both databases: declared machines first in the plant file's
order, off-shift windows from each work center's calendar, the states each machine was in
(clipped to the range, the current one up to now) and its downtime; bounded ranges."""

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
from tracker.views.machine_rows import machine_rows

pytestmark = pytest.mark.integration

MIN = timedelta(minutes=1)
# T0 is Monday 2026-03-02 08:00 UTC, 09:00 in Berlin: the day shift started an hour ago
PLANT = """
machines: [weld-1, saw-1]
calendars:
  days:
    timezone: Europe/Berlin
    shifts: [{days: mon-fri, start: "08:00", end: "18:00"}]
    breaks: [{days: mon-fri, start: "12:00", end: "12:30"}]
work_centers:
  weld: {machines: [weld-1], calendar: days}
"""


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker], tmp_path: Path) -> Tracker:
    plant = tmp_path / "plant.yaml"
    plant.write_text(PLANT, encoding="utf-8")
    clock = Clock()
    clock.now = T0 + 60 * MIN
    return make_tracker(ADMIN, clock=clock, api_keys=KEYS, plant_file=plant)


def _state(machine: str, state: str, minute: float) -> commands.SetMachineState:
    return commands.SetMachineState(
        machine, f"{machine}-{state}-{minute}", state, T0 + minute * MIN
    )


def test_rows_carry_shifts_states_and_downtime_in_the_plant_files_order(
    tracker: Tracker, client: TestClient
) -> None:
    tracker.bus.handle_batch(
        [
            _state("paint-9", "IDLE", 0),  # undeclared: after the declared ones
            _state("weld-1", "RUNNING", 0),
            _state("weld-1", "DOWN", 20),  # a breakdown of 10 minutes
            _state("weld-1", "RUNNING", 30),
            _state("weld-1", "DOWN", 50),  # down again, and still down at 09:00
        ]
    )
    window = {"from": (T0 - 60 * MIN).isoformat(), "to": (T0 + 24 * 60 * MIN).isoformat()}
    got = client.get("/api/v1/schedule/machines", params=window, headers=as_(VIEWER))
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["from"], body["now"], body["truncated"]) == (
        "2026-03-02T07:00:00Z",
        "2026-03-02T09:00:00Z",
        False,
    )
    rows = {r["machine_id"]: r for r in body["machines"]}
    assert list(rows) == ["weld-1", "saw-1", "paint-9"]
    assert [(r["declared"], r["calendar"]) for r in rows.values()] == [
        (True, "days"),
        (True, None),
        (False, None),
    ]
    weld = rows["weld-1"]
    assert weld["timezone"] == "Europe/Berlin"
    # 08:00-18:00 Berlin is 07:00-17:00 UTC, with the break at 11:00-11:30 UTC
    assert [(s["from"][11:16], s["to"][11:16], s["kind"]) for s in weld["off_shift"]] == [
        ("11:00", "11:30", "break"),
        ("17:00", "07:00", "off shift"),
    ]
    assert [(s["state"], s["from"][11:16], s["to"][11:16]) for s in weld["states"]] == [
        ("RUNNING", "08:00", "08:20"),
        ("DOWN", "08:20", "08:30"),
        ("RUNNING", "08:30", "08:50"),
        ("DOWN", "08:50", "09:00"),  # the current state, up to now
    ]
    stops = [(d["state"], d["from"][11:16], d["to"][11:16], d["open"]) for d in weld["downtime"]]
    assert stops == [("DOWN", "08:20", "08:30", False), ("DOWN", "08:50", "09:00", True)]
    assert rows["saw-1"]["off_shift"] == rows["saw-1"]["states"] == []


def test_ranges_are_bounded_and_default_to_a_day_back_and_a_week_ahead(
    client: TestClient,
) -> None:
    url = "/api/v1/schedule/machines"
    default = client.get(url, headers=as_(VIEWER)).json()
    assert (default["from"], default["to"]) == ("2026-03-01T09:00:00Z", "2026-03-09T09:00:00Z")
    too_long = {"from": T0.isoformat(), "to": (T0 + timedelta(days=15)).isoformat()}
    assert client.get(url, params=too_long, headers=as_(VIEWER)).status_code == 422
    backwards = {"from": T0.isoformat(), "to": (T0 - MIN).isoformat()}
    assert client.get(url, params=backwards, headers=as_(VIEWER)).status_code == 422
    far = {"from": "3000-01-01T00:00:00Z"}
    assert client.get(url, params=far, headers=as_(VIEWER)).status_code == 422
    assert client.get(url).status_code == 401


def test_a_busy_machines_states_are_cut_to_the_newest(tracker: Tracker) -> None:
    flips = [_state("weld-1", "RUNNING" if i % 2 else "IDLE", i) for i in range(6)]
    tracker.bus.handle_batch(flips)
    with tracker.read_sessions() as session:
        found = machine_rows(session, tracker.plant, T0 + 60 * MIN, T0, T0 + 60 * MIN, 60, limit=2)
    weld = found["machines"][0]
    assert found["truncated"] is True
    # the two newest closed states, then the current one up to now
    states = [(s["state"], s["from"].minute) for s in weld["states"]]
    assert states == [("RUNNING", 3), ("IDLE", 4), ("RUNNING", 5)]
