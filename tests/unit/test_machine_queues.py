"""Each machine's queue from the plan and the open operations, read through a fake."""

from __future__ import annotations

from tests.clock import Clock
from tests.fake_unit_of_work import FakePlanningReads
from tests.unit.test_planning import planned_store
from tracker.domain.routing import Plant
from tracker.service_layer.machine_queues import read_machine_queues
from tracker.service_layer.planning import Planner


def test_the_queues_follow_the_plan_and_a_machine_told_before_gets_an_empty_one() -> None:
    reads = FakePlanningReads(planned_store())
    plan = Planner(reads, Plant(), Clock()).replan()
    queues = read_machine_queues(reads, Plant(), plan, ["mill-1"])
    assert [planned.order_id for planned, _ in queues["saw-1"]] == ["SO-1", "SO-2"]
    assert queues["mill-1"] == []
