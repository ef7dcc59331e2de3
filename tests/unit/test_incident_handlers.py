"""Incidents through the bus on a fake unit of work: one per stopped machine, one ack for all."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.clock import T0, Clock
from tests.fake_store import order
from tests.fake_unit_of_work import FakeUnits
from tracker.domain import commands
from tracker.domain.alerts import AlertPolicy
from tracker.domain.incidents import IncidentState
from tracker.service_layer.bus import MessageBus
from tracker.service_layer.incident_handlers import IncidentClosed, IncidentNotFound

HOOK = "https://erp.example/hooks/alerts"
DUE = T0 + timedelta(days=2)


def _state(machine: str, state: str, event_id: str, minutes: int = 0) -> commands.SetMachineState:
    return commands.SetMachineState(machine, event_id, state, T0 + timedelta(minutes=minutes))


@pytest.fixture
def units() -> FakeUnits:
    return FakeUnits()


@pytest.fixture
def bus(units: FakeUnits) -> MessageBus:
    bus = MessageBus(units, Clock(), policy=AlertPolicy(webhook_urls=(HOOK,)))
    # three orders waiting on saw-1, and one on lathe-1 due too soon to make it
    bus.handle_batch([order(f"SO-{i}", due_at=DUE) for i in (1, 2, 3)])
    tight = order("SO-9", quantity=500, due_at=T0 + timedelta(hours=1))
    lathe = commands.OperationSpec(10, "turn", "lathe-1", 60, 30)
    bus.handle(commands.CreateOrder(**{**tight.__dict__, "operations": (lathe,)}))
    bus.handle(_state("lathe-1", "RUNNING", "l1"))
    return bus


def _down(bus: MessageBus) -> None:
    alarm = commands.RecordAlarm("saw-1", "a1", "E-42", "blade broken", T0)
    bus.handle_batch([alarm, _state("saw-1", "DOWN", "d1"), commands.CheckOrders()])


def test_a_machine_going_down_opens_one_incident_with_every_order_it_delays(
    units: FakeUnits, bus: MessageBus
) -> None:
    _down(bus)
    db = units.store.tables
    (incident,) = db.incidents
    assert (incident.machine_id, incident.cause, incident.reason_code) == ("saw-1", "DOWN", "E-42")
    under = sorted(a.order_id for a in db.alerts if a.incident_id == incident.id)
    assert under == ["SO-1", "SO-2", "SO-3"]
    # one delivery per channel for the incident, carrying all three orders
    rows = [d for d in db.deliveries if d["incident_id"] == incident.id]
    assert sorted(d["channel"] for d in rows) == ["mqtt", "webhook"]
    body = json.loads(rows[0]["payload"])
    assert body["event"] == "opened" and body["version"] == 1
    assert sorted(o["order_id"] for o in body["orders"]) == ["SO-1", "SO-2", "SO-3"]


def test_an_order_late_for_its_own_reasons_gets_a_plain_alert(
    units: FakeUnits, bus: MessageBus
) -> None:
    _down(bus)
    (alert,) = [a for a in units.store.tables.alerts if a.order_id == "SO-9"]
    assert alert.incident_id is None and alert.is_open


def test_acknowledging_the_incident_acknowledges_each_of_its_alerts(
    units: FakeUnits, bus: MessageBus
) -> None:
    _down(bus)
    bus.handle(commands.AcknowledgeIncident(1, "ann", "fitter on his way"))
    db = units.store.tables
    assert db.incidents[0].state is IncidentState.ACKNOWLEDGED
    under = [a for a in db.alerts if a.incident_id == 1]
    assert {(a.state.value, a.acked_by, a.ack_comment) for a in under} == {
        ("acknowledged", "ann", "fitter on his way")
    }
    plain = next(a for a in db.alerts if a.order_id == "SO-9")
    assert plain.state.value == "active"  # not the incident's
    # each alert's acknowledgement is delivered as before, and the incident's v2
    acked = [json.loads(d["payload"]) for d in db.deliveries if d["channel"] == "mqtt"]
    assert sum(1 for b in acked if b["event"] == "acknowledged" and "alert_id" in b) == 3
    assert any(b.get("incident_id") == 1 and b["version"] == 2 for b in acked)


def test_the_machine_running_again_closes_the_incident_and_acking_then_is_refused(
    units: FakeUnits, bus: MessageBus
) -> None:
    _down(bus)
    bus.handle(_state("saw-1", "RUNNING", "r1", minutes=30))
    incident = units.store.tables.incidents[0]
    assert incident.state is IncidentState.CLOSED and incident.last_event == "closed"
    with pytest.raises(IncidentClosed):
        bus.handle(commands.AcknowledgeIncident(1, "ann"))
    with pytest.raises(IncidentNotFound):
        bus.handle(commands.AcknowledgeIncident(7, "ann"))


def test_the_machine_stopping_again_opens_a_new_incident_for_the_same_alerts(
    units: FakeUnits, bus: MessageBus
) -> None:
    _down(bus)
    bus.handle(_state("saw-1", "RUNNING", "r1", minutes=30))
    bus.handle_batch([_state("saw-1", "OFFLINE", "o1", minutes=40), commands.CheckOrders()])
    db = units.store.tables
    assert [(i.id, i.cause, i.state.value) for i in db.incidents] == [
        (1, "DOWN", "closed"),
        (2, "OFFLINE", "open"),
    ]
    open_under = {a.order_id for a in db.alerts if a.incident_id == 2 and a.is_open}
    assert open_under == {"SO-1", "SO-2", "SO-3"}


def test_acknowledging_again_acknowledges_the_alerts_that_joined_since(
    units: FakeUnits, bus: MessageBus
) -> None:
    bus.handle(_state("saw-1", "DOWN", "d1"))
    bus.handle(commands.CheckOrders())
    bus.handle(commands.AcknowledgeIncident(1, "ann", "first"))
    bus.handle(order("SO-4", due_at=DUE))  # queued on the stopped saw later
    bus.handle(commands.CheckOrders())
    db = units.store.tables
    late_joiner = next(a for a in db.alerts if a.order_id == "SO-4")
    assert late_joiner.incident_id == 1 and late_joiner.state.value == "active"
    assert db.incidents[0].last_event == "updated"
    bus.handle(commands.AcknowledgeIncident(1, "bob", "second"))
    db = units.store.tables
    assert db.incidents[0].acked_by == "ann"  # the first acknowledgement stays
    late_joiner = next(a for a in db.alerts if a.order_id == "SO-4")
    assert (late_joiner.state.value, late_joiner.acked_by) == ("acknowledged", "bob")


def test_the_alarm_that_comes_after_the_stop_becomes_the_incidents_reason(
    units: FakeUnits, bus: MessageBus
) -> None:
    # bridges often send the state first and the alarm after it
    bus.handle_batch([_state("saw-1", "DOWN", "d1"), commands.CheckOrders()])
    (incident,) = units.store.tables.incidents
    assert incident.reason is None
    alarm = commands.RecordAlarm("saw-1", "a1", "E-42", "blade broken", T0 + timedelta(seconds=5))
    bus.handle(alarm)
    (incident,) = units.store.tables.incidents
    assert (incident.reason_code, incident.reason) == ("E-42", "blade broken")
    assert incident.message.endswith("E-42 blade broken") and incident.version == 2
    body = json.loads(units.store.tables.deliveries[-1]["payload"])
    assert (body["event"], body["reason_code"], body["version"]) == ("updated", "E-42", 2)
    # a later alarm does not replace the stop's reason
    bus.handle(commands.RecordAlarm("saw-1", "a2", "W-7", "guard open", T0 + timedelta(seconds=9)))
    assert units.store.tables.incidents[0].reason_code == "E-42"
