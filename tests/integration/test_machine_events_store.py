"""Machine events through the bus on SQLite and PostgreSQL: nothing dropped, durations kept."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.clock import T0, Clock
from tracker.adapters.unit_of_work import SqlUnitOfWork
from tracker.domain import commands
from tracker.domain.machine import Machine
from tracker.domain.model import Order
from tracker.service_layer.bus import MessageBus
from tracker.views import machines as views

pytestmark = pytest.mark.integration


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _create(bus: MessageBus, qty: int = 10) -> None:
    bus.handle(
        commands.CreateOrder(
            order_id="SO-1",
            customer="ACME",
            product="bracket",
            quantity=qty,
            due_at=T0 + timedelta(days=2),
            token_hash="a" * 64,
            operations=(commands.OperationSpec(10, "cut", "saw-1", 300, 60),),
        )
    )


def _order(bus: MessageBus) -> Order:
    with SqlUnitOfWork(bus.units.sessions) as uow:
        order = uow.get_order("SO-1")
        assert order is not None
        return order


def _machine(bus: MessageBus, machine_id: str = "saw-1") -> Machine:
    with SqlUnitOfWork(bus.units.sessions) as uow:
        return uow.get_machine(machine_id, for_update=False)


def test_cycles_without_a_job_or_for_unknown_jobs_are_kept_unassigned(bus: MessageBus) -> None:
    _create(bus)
    bus.handle(commands.RecordCycle("saw-1", "c1", 100, _at(10)))
    bus.handle(commands.RecordCycle("saw-1", "c2", 102, _at(20), order_id="SO-9", seq=10))
    bus.handle(commands.RecordCycle("saw-1", "c3", 103, _at(30), order_id="SO-1", seq=99))
    bus.handle(commands.StartJob("saw-1", "j1", "SO-404", 10, _at(40)))

    with SqlUnitOfWork(bus.units.sessions) as uow:
        kept = views.unassigned_events(uow.session, "saw-1")
    assert [(k["event_id"], k["type"]) for k in reversed(kept)] == [
        ("c1", "cycle"),
        ("c2", "cycle"),
        ("c3", "cycle"),
        ("j1", "job_start"),
    ]
    reasons = {k["event_id"]: k["reason"] for k in kept}
    assert reasons["c1"] == "no job bound to the machine"
    assert "unknown order SO-9" in reasons["c2"]
    assert "no operation 99" in reasons["c3"]
    assert kept[-1]["summary"] == "counter 100: 1 good, 0 scrap"
    assert kept[0]["received_at"] == T0 and kept[0]["event_at"] == _at(40)
    assert _order(bus).operations[0].good_qty == 0


def test_cycle_without_a_job_goes_to_the_machines_bound_job_with_scrap(bus: MessageBus) -> None:
    _create(bus)
    bus.handle(commands.StartJob("saw-1", "j1", "SO-1", 10, _at(0)))
    bus.handle(commands.RecordCycle("saw-1", "c1", 100, _at(10), scrap_counter=7))
    bus.handle(commands.RecordCycle("saw-1", "c2", 103, _at(20), scrap_counter=9))
    bus.handle(commands.RecordCycle("saw-1", "c3", 2, _at(30), scrap_counter=9))  # reset
    bus.handle(commands.RecordCycle("saw-1", "c4", 101, _at(15)))  # stale, out of order

    op = _order(bus).operations[0]
    assert (op.good_qty, op.scrap_qty) == (1 + 3 + 2, 2)
    machine = _machine(bus)
    assert (machine.last_counter, machine.stale_events) == (2, 1)


def test_counter_wrap_is_counted_across_the_declared_value(bus: MessageBus) -> None:
    _create(bus, qty=100)
    bus.handle(commands.StartJob("saw-1", "j1", "SO-1", 10, _at(0)))
    bus.handle(commands.RecordCycle("saw-1", "c1", 65_530, _at(10), counter_wrap=65_536))
    bus.handle(commands.RecordCycle("saw-1", "c2", 3, _at(20), counter_wrap=65_536))

    assert _order(bus).operations[0].good_qty == 1 + 9


def test_alarms_are_stored_with_the_job_of_the_moment(bus: MessageBus) -> None:
    _create(bus)
    bus.handle(commands.StartJob("saw-1", "j1", "SO-1", 10, _at(0)))
    alarm = commands.RecordAlarm("saw-1", "a1", "E-STOP", "emergency stop pressed", _at(5))
    assert bus.handle(alarm) is True
    assert bus.handle(alarm) is False  # redelivered

    with SqlUnitOfWork(bus.units.sessions) as uow:
        (stored,) = views.alarms(uow.session, "saw-1")
    assert (stored["code"], stored["message"], stored["order_id"], stored["seq"]) == (
        "E-STOP",
        "emergency stop pressed",
        "SO-1",
        10,
    )
    assert stored["raised_at"] == _at(5)


def test_state_durations_are_persisted_and_stale_states_rejected(
    bus: MessageBus, clock: Clock
) -> None:
    for i, (state, at) in enumerate([("RUNNING", 0), ("DOWN", 600), ("RUNNING", 900)]):
        bus.handle(commands.SetMachineState("saw-1", f"s{i}", state, _at(at)))
    bus.handle(commands.SetMachineState("saw-1", "late", "IDLE", _at(300)))  # older: rejected

    clock.now = _at(1_000)
    with SqlUnitOfWork(bus.units.sessions) as uow:
        intervals = views.machine_states(uow.session, "saw-1")
        summary = views.machine_utilisation(uow.session, "saw-1", clock.now)
    assert [(i["state"], i["started_at"], i["ended_at"]) for i in intervals] == [
        ("RUNNING", _at(0), _at(600)),
        ("DOWN", _at(600), _at(900)),
    ]
    assert summary is not None
    assert summary["state"] == "RUNNING" and summary["stale_events"] == 1
    assert summary["seconds"] == {"RUNNING": 700.0, "DOWN": 300.0}


def test_silent_machines_become_offline_and_come_back(bus: MessageBus, clock: Clock) -> None:
    bus.handle(commands.SetMachineState("saw-1", "s1", "RUNNING", _at(0)))
    clock.now = _at(200)
    bus.handle(commands.SetMachineState("weld-1", "w1", "RUNNING", _at(200)))

    clock.now = _at(400)
    bus.handle(commands.MarkSilentMachinesOffline(clock.now, 300))
    assert (_machine(bus, "saw-1").state, _machine(bus, "weld-1").state) == ("OFFLINE", "RUNNING")
    assert _machine(bus, "saw-1").state_since == _at(0)
    bus.handle(commands.MarkSilentMachinesOffline(clock.now, 300))  # no second interval

    clock.now = _at(500)
    bus.handle(commands.RecordCycle("saw-1", "c1", 1, _at(500)))
    with SqlUnitOfWork(bus.units.sessions) as uow:
        intervals = views.machine_states(uow.session, "saw-1")
    assert [(i["state"], i["started_at"], i["ended_at"]) for i in intervals] == [
        ("OFFLINE", _at(0), _at(500))
    ]
    assert _machine(bus, "saw-1").state == "RUNNING"


def test_replaying_the_whole_event_log_gives_the_same_state(bus: MessageBus) -> None:
    _create(bus, qty=20)
    log: list[commands.Command] = [
        commands.StartJob("saw-1", "j1", "SO-1", 10, _at(0)),
        commands.SetMachineState("saw-1", "s1", "RUNNING", _at(0)),
        commands.RecordCycle("saw-1", "c1", 10, _at(60), scrap_counter=0),
        commands.RecordCycle("saw-1", "c2", 12, _at(120), scrap_counter=1),
        commands.RecordAlarm("saw-1", "a1", "JAM", "", _at(130)),
        commands.SetMachineState("saw-1", "s2", "DOWN", _at(130)),
        commands.RecordCycle("saw-1", "c3", 1, _at(300), scrap_counter=1),
        commands.RecordCycle("weld-1", "w1", 5, _at(300)),
    ]

    def snapshot() -> tuple[object, ...]:
        op = _order(bus).operations[0]
        machine = _machine(bus)
        with SqlUnitOfWork(bus.units.sessions) as uow:
            rows = (
                len(views.alarms(uow.session, "saw-1")),
                len(views.machine_states(uow.session, "saw-1")),
                len(views.unassigned_events(uow.session, "weld-1")),
            )
        return (op.good_qty, op.scrap_qty, op.state, machine.state, machine.last_counter, rows)

    for cmd in log:
        bus.handle(cmd)
    first = snapshot()
    assert first[:2] == (1 + 2 + 1, 1)
    for cmd in [*log, *reversed(log)]:
        assert bus.handle(cmd) is False
    assert snapshot() == first
