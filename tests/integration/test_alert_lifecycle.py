"""The late-order alert lifecycle through the bus, on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.clock import T0, Clock
from tracker.adapters.database import session_factory
from tracker.adapters.unit_of_work import SqlUnitOfWork, SqlUnits
from tracker.domain import commands
from tracker.domain.alerts import AlertPolicy
from tracker.domain.schedule import ScheduleRules
from tracker.service_layer.alert_handlers import AlertClosed, AlertNotFound
from tracker.service_layer.bus import MessageBus
from tracker.views.alerts import alerts

pytestmark = pytest.mark.integration

HOOK = "http://127.0.0.1:9/hook"


@pytest.fixture
def bus(engine: Engine, clock: Clock) -> MessageBus:
    policy = AlertPolicy(ScheduleRules(at_risk_slack_s=1800, behind_plan_ratio=0.2), (HOOK,))
    return MessageBus(SqlUnits(session_factory(engine)), clock, policy=policy)


def _create(bus: MessageBus, due: timedelta = timedelta(hours=2)) -> None:
    bus.handle(
        commands.CreateOrder(
            order_id="SO-1",
            customer="ACME",
            product="bracket",
            quantity=10,
            due_at=T0 + due,
            token_hash="a" * 64,
            operations=(
                commands.OperationSpec(10, "cut", "saw-1", 0, 60.0),
                commands.OperationSpec(20, "weld", "weld-1", 0, 60.0),
            ),
        )
    )


def _alerts(bus: MessageBus) -> list[dict[str, Any]]:
    with SqlUnitOfWork(bus.units.sessions) as uow:
        return alerts(uow.session)


def _sent(alert: dict[str, Any]) -> list[tuple[int, str, str]]:
    """(version, channel, event) of every delivery row of an alert."""
    return [(d["version"], d["channel"], d["target"]) for d in alert["deliveries"]]


def _state(bus: MessageBus, machine: str, state: str, n: int, clock: Clock) -> None:
    bus.handle(commands.SetMachineState(machine, f"{machine}-s{n}", state, clock.now))


def _progress(bus: MessageBus) -> tuple[str, list[str]]:
    with SqlUnitOfWork(bus.units.sessions) as uow:
        order = uow.get_order("SO-1")
        assert order is not None
        return order.schedule_status.value, list(order.schedule_reasons)


def test_alert_is_raised_updated_acknowledged_escalated_and_cleared_once_each(
    bus: MessageBus, clock: Clock
) -> None:
    _create(bus)  # 20 min of work, due in 2 h: on track
    assert _alerts(bus) == []
    bus.handle(commands.StartJob("saw-1", "j1", "SO-1", 10, T0))

    clock.now = T0 + timedelta(minutes=1)
    _state(bus, "saw-1", "DOWN", 1, clock)
    assert _progress(bus) == ("at_risk", ["machine saw-1 of operation 10 (cut) is DOWN"])
    [raised] = _alerts(bus)
    assert (raised["state"], raised["severity"], raised["version"]) == ("active", "warning", 1)
    assert _sent(raised) == [(1, "mqtt", ""), (1, "webhook", HOOK)]

    for minutes in (2, 3):  # the event and the periodic check both assess: still one alert
        clock.now = T0 + timedelta(minutes=minutes)
        bus.handle(commands.CheckOrders())
    [updated] = _alerts(bus)
    assert updated["id"] == raised["id"] and updated["version"] == 1
    assert updated["eta"] == T0 + timedelta(minutes=23)  # ETA refreshed, no new delivery
    assert len(updated["deliveries"]) == 2

    bus.handle(commands.AcknowledgeAlert(raised["id"], "ann", "maintenance called"))
    [acked] = _alerts(bus)
    assert (acked["state"], acked["acked_by"], acked["ack_comment"]) == (
        "acknowledged",
        "ann",
        "maintenance called",
    )
    assert acked["acked_at"] == clock.now and acked["version"] == 2

    clock.now = T0 + timedelta(hours=1, minutes=50)  # still down: 20 min of work left > 10 min
    bus.handle(commands.CheckOrders())
    [escalated] = _alerts(bus)
    assert (escalated["state"], escalated["severity"]) == ("active", "critical")
    assert escalated["schedule_status"] == "late" and escalated["version"] == 3
    assert escalated["reasons"] == [
        "projected to finish 2026-03-02 10:10Z, 10 min after its due date 2026-03-02 10:00Z",
        "machine saw-1 of operation 10 (cut) is DOWN",
    ]
    bus.handle(commands.CheckOrders())
    assert len(_alerts(bus)[0]["deliveries"]) == 6

    _state(bus, "saw-1", "RUNNING", 2, clock)
    for seq, machine in ((10, "saw-1"), (20, "weld-1")):
        if seq == 20:
            bus.handle(commands.StartJob(machine, "j2", "SO-1", seq, clock.now))
        for n, counter in enumerate((1, 10)):
            clock.now += timedelta(minutes=5)
            bus.handle(
                commands.RecordCycle(
                    machine, f"{machine}-c{n}", counter, clock.now, 30.0, "SO-1", seq
                )
            )
    [cleared] = _alerts(bus)
    assert (cleared["state"], cleared["version"], cleared["last_event"]) == (
        "cleared",
        4,
        "cleared",
    )
    assert cleared["cleared_at"] == clock.now
    assert cleared["schedule_status"] == "late"  # completed after its due date
    assert [(v, c) for v, c, _ in _sent(cleared)] == [
        (v, c) for v in (1, 2, 3, 4) for c in ("mqtt", "webhook")
    ]
    payloads = [json.loads(d) for d in _payloads(bus)]
    assert [(p["version"], p["event"], p["severity"]) for p in payloads[::2]] == [
        (1, "raised", "warning"),
        (2, "acknowledged", "warning"),
        (3, "escalated", "critical"),
        (4, "cleared", "critical"),
    ]
    assert {p["alert_id"] for p in payloads} == {raised["id"]}


def _payloads(bus: MessageBus) -> list[str]:
    from sqlalchemy import select

    from tracker.adapters import orm

    with SqlUnitOfWork(bus.units.sessions) as uow:
        d = orm.alert_deliveries.c
        # the alerts' rows: the breakdown's incident has rows of its own (test_incidents_store.py)
        stmt = select(d.payload).where(d.alert_id.is_not(None)).order_by(d.id)
        return list(uow.session.scalars(stmt))


def test_alert_clears_when_the_machine_recovers(bus: MessageBus, clock: Clock) -> None:
    _create(bus)
    bus.handle(commands.StartJob("saw-1", "j1", "SO-1", 10, T0))
    _state(bus, "saw-1", "DOWN", 1, clock)
    clock.now += timedelta(minutes=1)
    _state(bus, "saw-1", "RUNNING", 2, clock)
    clock.now += timedelta(minutes=1)
    bus.handle(commands.CheckOrders())

    [alert] = _alerts(bus)
    assert (alert["state"], alert["version"], alert["schedule_status"]) == (
        "cleared",
        2,
        "on_track",
    )
    assert alert["reasons"][0].startswith("back on track")
    assert _progress(bus) == ("on_track", [])

    clock.now += timedelta(minutes=1)
    _state(bus, "saw-1", "DOWN", 3, clock)  # a new problem is a new alert
    assert [a["state"] for a in _alerts(bus)] == ["active", "cleared"]


def test_order_late_from_the_start_raises_a_critical_alert(bus: MessageBus) -> None:
    _create(bus, due=timedelta(minutes=10))
    [alert] = _alerts(bus)
    assert (alert["severity"], alert["schedule_status"]) == ("critical", "late")


def test_acknowledging_a_missing_or_cleared_alert_is_refused(bus: MessageBus, clock: Clock) -> None:
    with pytest.raises(AlertNotFound):
        bus.handle(commands.AcknowledgeAlert(999, "ann"))
    _create(bus)
    bus.handle(commands.StartJob("saw-1", "j1", "SO-1", 10, T0))
    _state(bus, "saw-1", "OFFLINE", 1, clock)
    clock.now += timedelta(minutes=1)
    _state(bus, "saw-1", "RUNNING", 2, clock)
    [alert] = _alerts(bus)
    with pytest.raises(AlertClosed):
        bus.handle(commands.AcknowledgeAlert(alert["id"], "ann"))
