"""Incidents through the bus and the API on real SQLite and PostgreSQL databases: one per
stopped machine, its orders' alerts under it, one acknowledgement for all, closed on repair."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.clock import T0, Clock
from tests.integration.api_keys import SUPERVISOR, VIEWER, as_, create, make
from tests.waiting import wait_for
from tracker.adapters.unit_of_work import SqlUnitOfWork
from tracker.bootstrap import Tracker
from tracker.domain import commands
from tracker.service_layer.bus import MessageBus
from tracker.service_layer.incident_handlers import IncidentClosed
from tracker.views.alerts import alerts
from tracker.views.incidents import incidents

pytestmark = pytest.mark.integration


def _order(order_id: str, machine: str, due: timedelta, quantity: int = 10) -> commands.CreateOrder:
    return commands.CreateOrder(
        order_id=order_id,
        customer="ACME",
        product="bracket",
        quantity=quantity,
        due_at=T0 + due,
        token_hash="a" * 64,
        operations=(commands.OperationSpec(10, "cut", machine, 0, 60.0),),
    )


def _read(bus: MessageBus) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """All incidents, and the alerts by order."""
    with SqlUnitOfWork(bus.units.sessions) as uow:
        return incidents(uow.session), {a["order_id"]: a for a in alerts(uow.session)}


def test_one_machine_down_is_one_incident_acked_once_and_closed_when_it_runs(
    bus: MessageBus, clock: Clock
) -> None:
    bus.handle_batch([_order(f"SO-{i}", "saw-1", timedelta(days=2)) for i in (1, 2, 3)])
    # slow for its own reasons: 500 parts a minute each on another machine, due in an hour
    bus.handle(_order("SO-9", "lathe-1", timedelta(hours=1), quantity=500))
    bus.handle(commands.SetMachineState("lathe-1", "l1", "RUNNING", T0))

    clock.now = T0 + timedelta(minutes=1)
    alarm = commands.RecordAlarm("saw-1", "a1", "E-42", "blade broken", clock.now)
    down = commands.SetMachineState("saw-1", "d1", "DOWN", clock.now)
    bus.handle_batch([alarm, down, commands.CheckOrders()])

    (incident,), by_order = _read(bus)
    assert (incident["machine_id"], incident["cause"], incident["state"]) == (
        "saw-1",
        "DOWN",
        "open",
    )
    assert (incident["reason_code"], incident["reason"]) == ("E-42", "blade broken")
    assert [o["order_id"] for o in incident["orders"]] == ["SO-1", "SO-2", "SO-3"]
    assert {by_order[f"SO-{i}"]["incident_id"] for i in (1, 2, 3)} == {incident["id"]}
    assert by_order["SO-9"]["incident_id"] is None and by_order["SO-9"]["state"] == "active"
    assert [(d["version"], d["channel"]) for d in incident["deliveries"]] == [(1, "mqtt")]

    clock.now = T0 + timedelta(minutes=2)
    bus.handle(commands.AcknowledgeIncident(incident["id"], "ann", "fitter called"))
    (incident,), by_order = _read(bus)
    assert incident["state"] == "acknowledged" and incident["acked_by"] == "ann"
    for i in (1, 2, 3):
        alert = by_order[f"SO-{i}"]
        assert (alert["state"], alert["acked_by"], alert["ack_comment"]) == (
            "acknowledged",
            "ann",
            "fitter called",
        )
    assert by_order["SO-9"]["state"] == "active"

    clock.now = T0 + timedelta(minutes=20)
    bus.handle(commands.SetMachineState("saw-1", "r1", "RUNNING", clock.now))
    (incident,), by_order = _read(bus)
    assert incident["state"] == "closed" and incident["closed_at"] is not None
    assert [d["version"] for d in incident["deliveries"]] == [1, 2, 3]
    # their orders are on track again: the alerts clear by their own rules
    assert {by_order[f"SO-{i}"]["state"] for i in (1, 2, 3)} == {"cleared"}
    with pytest.raises(IncidentClosed):
        bus.handle(commands.AcknowledgeIncident(incident["id"], "ann"))


@pytest.fixture
def tracker(make_tracker: Callable[..., Tracker]) -> Tracker:
    return make(make_tracker)


def test_the_api_lists_shows_and_acknowledges_an_incident(
    tracker: Tracker, client: TestClient
) -> None:
    for order_id in ("SO-1", "SO-2"):
        create(client, order_id)
    now = datetime.now(UTC)
    tracker.bus.handle(commands.SetMachineState("saw-1", "d1", "DOWN", now))
    tracker.bus.handle(commands.CheckOrders())
    listed = wait_for(
        lambda: client.get("/api/v1/incidents", headers=as_(VIEWER)).json(), "an incident", 10
    )
    (incident,) = listed
    assert [o["order_id"] for o in incident["orders"]] == ["SO-1", "SO-2"]
    url = f"/api/v1/incidents/{incident['id']}"
    assert client.get(url, headers=as_(VIEWER)).json()["machine_id"] == "saw-1"
    assert client.get("/api/v1/incidents/999", headers=as_(VIEWER)).status_code == 404
    assert client.post(f"{url}/ack", json={"by": "ann"}, headers=as_(VIEWER)).status_code == 403

    acked = client.post(
        f"{url}/ack", json={"by": "ann", "comment": "on it"}, headers=as_(SUPERVISOR)
    )
    assert acked.status_code == 200, acked.text
    body = acked.json()
    assert body["state"] == "acknowledged"
    assert {o["state"] for o in body["orders"]} == {"acknowledged"}

    tracker.bus.handle(
        commands.SetMachineState("saw-1", "r1", "RUNNING", now + timedelta(seconds=1))
    )
    assert client.get("/api/v1/incidents", headers=as_(VIEWER)).json() == []
    (closed,) = client.get("/api/v1/incidents?state=all", headers=as_(VIEWER)).json()
    assert closed["state"] == "closed"
    again = client.post(f"{url}/ack", json={"by": "ann"}, headers=as_(SUPERVISOR))
    assert again.status_code == 409
