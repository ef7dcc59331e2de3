"""Machine event handlers on a fake unit of work: jobs, cycles, states, alarms, silence."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.clock import T0
from tests.fake_store import order
from tests.fake_unit_of_work import FakeUnitOfWork, with_orders
from tracker.domain import commands
from tracker.domain.machine import OFFLINE
from tracker.service_layer import machine_handlers

MIN = timedelta(minutes=1)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return with_orders(order("SO-1", quantity=3))


def test_a_cycle_with_no_job_bound_is_kept_as_unassigned(uow: FakeUnitOfWork) -> None:
    machine_handlers.record_cycle(commands.RecordCycle("saw-1", "c1", 1, T0), uow, T0)
    (kept,) = uow.db.unassigned
    assert (kept["type"], kept["reason"], kept["good_qty"]) == (
        "cycle",
        "no job bound to the machine",
        1,
    )


def test_a_started_job_counts_the_machine_cycles_to_its_operation(uow: FakeUnitOfWork) -> None:
    start = commands.StartJob("saw-1", "s1", "SO-1", 10, T0)
    machine_handlers.start_job(start, uow, T0)
    machine_handlers.record_cycle(commands.RecordCycle("saw-1", "c1", 1, T0 + MIN), uow, T0)
    machine_handlers.record_cycle(commands.RecordCycle("saw-1", "c2", 3, T0 + 2 * MIN), uow, T0)
    assert uow.db.orders["SO-1"].operations[0].good_qty == 3
    assert [b["action"] for b in uow.db.job_bindings] == ["start"]


def test_a_job_event_for_an_unknown_order_is_kept_with_the_reason(uow: FakeUnitOfWork) -> None:
    machine_handlers.start_job(commands.StartJob("saw-1", "s1", "SO-9", 10, T0), uow, T0)
    assert uow.db.unassigned[0]["reason"] == "unknown order SO-9"
    assert uow.db.machines["saw-1"].order_id is None


def test_an_alarm_is_stored_with_the_machine_s_bound_job(uow: FakeUnitOfWork) -> None:
    machine_handlers.start_job(commands.StartJob("saw-1", "s1", "SO-1", 10, T0), uow, T0)
    alarm = commands.RecordAlarm("saw-1", "a1", "JAM", "feeder jammed", T0 + MIN)
    machine_handlers.record_alarm(alarm, uow, T0 + MIN)
    assert (uow.db.alarms[0]["order_id"], uow.db.alarms[0]["seq"]) == ("SO-1", 10)


def test_a_state_change_closes_the_previous_interval(uow: FakeUnitOfWork) -> None:
    for i, state in enumerate(["RUNNING", "DOWN"]):
        cmd = commands.SetMachineState("saw-1", f"e{i}", state, T0 + i * MIN)
        machine_handlers.set_machine_state(cmd, uow, T0 + i * MIN)
    assert uow.machine_state_changes() == {"saw-1": (None, "DOWN")}
    assert [(i.state, i.ended_at) for i in uow.db.intervals][-1] == ("RUNNING", T0 + MIN)


def test_a_machine_silent_long_enough_goes_offline(uow: FakeUnitOfWork) -> None:
    machine_handlers.set_machine_state(
        commands.SetMachineState("saw-1", "e1", "RUNNING", T0), uow, T0
    )
    later = T0 + 10 * MIN
    check = commands.MarkSilentMachinesOffline(later, 300.0)
    machine_handlers.mark_silent_machines_offline(check, uow, later)
    assert uow.db.machines["saw-1"].state == OFFLINE
