"""The incident rules: which machine stops an order, the stop's alarm, the lifecycle, versions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.clock import T0
from tracker.domain.incidents import (
    AlarmNote,
    Incident,
    IncidentError,
    IncidentState,
    reason_of,
    stopped_machine,
)


def _incident() -> Incident:
    alarm = AlarmNote("E-42", "spindle overload", T0)
    return Incident.open_for("mill-1", "DOWN", T0, alarm, T0 + timedelta(minutes=1))


def test_a_down_or_offline_machine_stops_an_order_running_or_idle_does_not() -> None:
    assert stopped_machine({"saw-1": "RUNNING", "saw-2": "IDLE"}) is None
    assert stopped_machine({"saw-2": "OFFLINE", "saw-1": "DOWN"}) == ("saw-1", "DOWN")
    assert stopped_machine({"saw-1": "SETUP", "saw-2": "OFFLINE"}) == ("saw-2", "OFFLINE")


def test_the_stops_reason_is_the_newest_alarm_near_or_after_its_start() -> None:
    old = AlarmNote("E-1", "long ago", T0 - timedelta(hours=1))
    just_before = AlarmNote("E-42", "spindle overload", T0 - timedelta(seconds=30))
    after = AlarmNote("E-43", "coolant low", T0 + timedelta(seconds=5))
    assert reason_of([old], T0) is None
    assert reason_of([old, just_before], T0) == just_before
    assert reason_of([after, just_before, old], T0) == after


def test_an_incident_opens_naming_the_machine_its_alarm_and_the_stops_start() -> None:
    incident = _incident()
    assert incident.state is IncidentState.OPEN
    assert (incident.reason_code, incident.reason, incident.started_at) == (
        "E-42",
        "spindle overload",
        T0,
    )
    assert (
        incident.message == "machine mill-1 is DOWN since 2026-03-02 08:00Z: E-42 spindle overload"
    )
    assert (incident.version, incident.last_event, incident.notices) == (1, "opened", ["opened"])


def test_only_a_stopped_machine_opens_an_incident() -> None:
    with pytest.raises(IncidentError):
        Incident.open_for("mill-1", "RUNNING", T0, None, T0)
    incident = Incident.open_for("mill-1", "OFFLINE", None, None, T0)
    assert incident.started_at == T0 and incident.reason is None


def test_transitions_of_one_transaction_are_one_version() -> None:
    incident = _incident()
    incident.order_affected(T0)
    incident.order_affected(T0)
    assert (incident.version, incident.last_event) == (1, "opened")  # opened with 3 orders
    incident.notices.clear()  # delivered: the transaction ended
    incident.order_affected(T0)
    assert (incident.version, incident.last_event) == (2, "updated")


def test_acknowledging_keeps_the_first_and_a_closed_incident_refuses_it() -> None:
    incident = _incident()
    incident.notices.clear()
    assert incident.acknowledge("ann", "fitter called", T0) is True
    assert incident.acknowledge("bob", None, T0) is False
    assert (incident.acked_by, incident.ack_comment, incident.version) == (
        "ann",
        "fitter called",
        2,
    )
    incident.notices.clear()
    incident.close("RUNNING", T0 + timedelta(hours=1))
    assert incident.state is IncidentState.CLOSED and incident.last_event == "closed"
    assert incident.message == "machine mill-1 is RUNNING again (was DOWN)"
    incident.close("IDLE", T0 + timedelta(hours=2))  # stays closed, no new version
    assert incident.version == 3
    with pytest.raises(IncidentError):
        incident.acknowledge("ann", None, T0)
    with pytest.raises(IncidentError):
        incident.order_affected(T0)


def test_an_incident_opened_and_closed_in_one_transaction_is_delivered_closed() -> None:
    incident = _incident()
    incident.close("RUNNING", T0)
    assert (incident.version, incident.last_event) == (1, "closed")
