"""Binding jobs on a fake unit of work: by a person, from a dispatch list, with the backlog."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.clock import T0
from tests.fake_store import order
from tests.fake_unit_of_work import FakeUnitOfWork, with_orders
from tracker.domain import commands
from tracker.domain.binding import Binding, MachineRules
from tracker.domain.planning.model import Plan, PlannedOperation, Rule
from tracker.service_layer import job_binding, machine_handlers

MIN = timedelta(minutes=1)


def _uow(rules: MachineRules, plan: Plan | None = None) -> FakeUnitOfWork:
    return with_orders(order("SO-1", quantity=5), order("SO-2", quantity=5), rules=rules, plan=plan)


def test_a_person_binds_a_job_and_the_recent_unassigned_cycles_count_to_it() -> None:
    uow = _uow(MachineRules(machines=frozenset({"saw-1"})))
    machine_handlers.record_cycle(commands.RecordCycle("saw-1", "c1", 1, T0), uow, T0)
    machine_handlers.record_cycle(commands.RecordCycle("saw-1", "c2", 2, T0 + MIN), uow, T0)
    job_binding.bind_job(commands.BindJob("saw-1", "SO-1", 10, "ann"), uow, T0 + 2 * MIN)
    assert uow.db.orders["SO-1"].operations[0].good_qty == 2
    assert all(row["assigned_order_id"] == "SO-1" for row in uow.db.unassigned)
    assert uow.rebound


def test_a_cycle_applied_before_its_jobs_start_counts_to_that_job() -> None:
    # two trackers share a machine's events: its cycle (stamped after the job's start) can be
    # applied before the job_start that was sent first
    uow = _uow(MachineRules(machines=frozenset({"saw-1"})))
    machine_handlers.record_cycle(commands.RecordCycle("saw-1", "c1", 1, T0 + MIN), uow, T0 + MIN)
    start = commands.StartJob("saw-1", "j1", "SO-1", 10, T0)
    machine_handlers.start_job(start, uow, T0 + MIN + timedelta(seconds=1))
    operation = uow.db.orders["SO-1"].operations[0]
    assert (operation.good_qty, operation.started_at) == (1, T0)
    assert [row["assigned_order_id"] for row in uow.db.unassigned] == ["SO-1"]


def test_binding_an_unknown_machine_or_job_is_refused() -> None:
    uow = _uow(MachineRules())
    with pytest.raises(job_binding.MachineNotFound):
        job_binding.bind_job(commands.BindJob("saw-9", "SO-1", 10, "ann"), uow, T0)
    uow.get_machine("saw-1")
    with pytest.raises(job_binding.UnknownJob):
        job_binding.bind_job(commands.BindJob("saw-1", "SO-1", 20, "ann"), uow, T0)


def test_releasing_another_job_than_the_bound_one_is_a_conflict() -> None:
    uow = _uow(MachineRules(machines=frozenset({"saw-1"})))
    job_binding.bind_job(commands.BindJob("saw-1", "SO-1", 10, "ann"), uow, T0)
    with pytest.raises(job_binding.JobConflict):
        job_binding.release_job(commands.ReleaseJob("saw-1", "ann", "SO-2"), uow, T0)
    job_binding.release_job(commands.ReleaseJob("saw-1", "ann"), uow, T0)
    assert uow.db.machines["saw-1"].order_id is None


def test_a_dispatch_bound_machine_takes_the_first_job_of_its_list() -> None:
    planned = {
        (oid, 10): PlannedOperation(oid, 10, "saw-1", T0 + i * MIN, T0 + (i + 1) * MIN)
        for i, oid in enumerate(["SO-2", "SO-1"])
    }
    plan = Plan(T0, Rule.EDD, planned)
    uow = _uow(MachineRules(binding=Binding.DISPATCH), plan)
    machine_handlers.record_cycle(commands.RecordCycle("saw-1", "c1", 1, T0), uow, T0)
    assert (uow.db.machines["saw-1"].order_id, uow.db.orders["SO-2"].operations[0].good_qty) == (
        "SO-2",
        1,
    )
