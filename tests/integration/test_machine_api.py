"""The machine endpoints: unassigned events, alarms and utilisation, behind the API key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from shopfloor.contract.payloads import AlarmEvent, CycleEvent, StateEvent
from tracker.bootstrap import Tracker
from tracker.entrypoints.mqtt_consumer import to_command

pytestmark = pytest.mark.integration

KEY = "supervisor-key-" + "y" * 16
T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker]) -> Tracker:
    return make_tracker(KEY, counter_wraps={"saw-1": 1000})


def test_unassigned_events_alarms_and_state_are_visible_to_supervisors(
    tracker: Tracker, client: TestClient
) -> None:
    wrap = tracker.counter_wrap("saw-1")
    assert wrap == 1000
    for event in (
        StateEvent(type="state", event_id="s1", ts=T0, state="RUNNING"),  # type: ignore[arg-type]
        CycleEvent(type="cycle", event_id="c1", ts=T0, counter=7, scrap_counter=1),
        AlarmEvent(type="alarm", event_id="a1", ts=T0, code="JAM", message="feeder jammed"),
    ):
        cmd = to_command("saw-1", event, T0, wrap)
        assert cmd is not None
        tracker.bus.handle(cmd)

    assert client.get("/api/v1/machines/saw-1/unassigned").status_code == 401
    headers = {"X-API-Key": KEY}
    (kept,) = client.get("/api/v1/machines/saw-1/unassigned", headers=headers).json()
    assert (kept["event_id"], kept["type"], kept["reason"]) == (
        "c1",
        "cycle",
        "no job bound to the machine",
    )
    (alarm,) = client.get("/api/v1/machines/saw-1/alarms", headers=headers).json()
    assert (alarm["code"], alarm["message"]) == ("JAM", "feeder jammed")
    machine = client.get("/api/v1/machines/saw-1", headers=headers).json()
    assert machine["state"] == "RUNNING" and "RUNNING" in machine["seconds"]
    assert client.get("/api/v1/machines/nope", headers=headers).status_code == 404
