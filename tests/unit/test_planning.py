"""Planning inputs and the planned baseline, on fakes: what the scheduler is given."""

from __future__ import annotations

from datetime import timedelta

from tests.clock import T0, Clock
from tests.fake_store import FakeStore, order
from tests.fake_unit_of_work import FakePlanningReads, FakeUnitOfWork, with_orders
from tracker.domain import commands, events
from tracker.domain.planning.model import Plan, PlannedOperation, Rule
from tracker.domain.routing import Plant
from tracker.service_layer import machine_handlers
from tracker.service_layer.planning import Planner, PlanningPolicy, freeze_planned, planning_inputs


def planned_store() -> FakeStore:
    """Two open orders for saw-1, which is DOWN."""
    uow = with_orders(*(order(f"SO-{i}", 4, T0 + timedelta(days=i)) for i in (1, 2)))
    machine_handlers.set_machine_state(commands.SetMachineState("saw-1", "e1", "DOWN", T0), uow, T0)
    uow.commit()
    return uow.store


def test_the_scheduler_gets_the_open_work_and_a_down_machine_back_later() -> None:
    with FakePlanningReads(planned_store())() as reads:
        jobs, machines = planning_inputs(reads, Plant(), T0, PlanningPolicy(down_allowance_s=600))
    assert [(j.order_id, j.operations[0].run_s) for j in jobs] == [("SO-1", 120.0), ("SO-2", 120.0)]
    assert [(m.machine_id, m.available_at) for m in machines] == [
        ("saw-1", T0 + timedelta(minutes=10))
    ]


def test_a_replan_plans_every_open_order_and_keeps_the_plan() -> None:
    planner = Planner(FakePlanningReads(planned_store()), Plant(), Clock())
    plan = planner.replan()
    assert sorted(plan.etas) == ["SO-1", "SO-2"] and planner.current is plan


def test_an_operation_start_keeps_the_plan_it_had_once() -> None:
    planned = PlannedOperation("SO-1", 10, "saw-1", T0, T0 + timedelta(hours=1))
    plan = Plan(T0, Rule.EDD, {("SO-1", 10): planned})
    with FakeUnitOfWork(FakeStore(), plan=plan) as uow:
        started = events.OperationStarted("SO-1", 10, T0)
        freeze_planned(started, uow, T0)
        uow.plan = Plan(T0, Rule.EDD, {("SO-1", 10): PlannedOperation("SO-1", 10, "saw-2", T0, T0)})
        freeze_planned(started, uow, T0)
        assert uow.db.planned == {("SO-1", 10): ("saw-1", T0, T0 + timedelta(hours=1))}
