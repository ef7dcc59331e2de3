"""Dispatch lists from a plan: which machine, in what order, what each job says, what is news."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shopfloor.contract.payloads import DispatchList, encode, parse_dispatch
from tracker.domain.planning.dispatch_lists import (
    OpenOperation,
    Queue,
    changed,
    dispatch_lists,
    machine_queues,
    news,
)
from tracker.domain.planning.dispatching_rules import schedule
from tracker.domain.planning.model import (
    Plan,
    PlanJob,
    PlanMachine,
    PlannedOperation,
    PlanOperation,
    Rule,
)

NOW = datetime(2024, 3, 4, 8, tzinfo=UTC)
DUE = NOW + timedelta(days=1)


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def planned(order_id: str, seq: int, machine: str, start: float, end: float) -> PlannedOperation:
    return PlannedOperation(order_id, seq, machine, at(start), at(end))


def plan(*operations: PlannedOperation) -> Plan:
    return Plan(NOW, Rule.EDD, {(p.order_id, p.seq): p for p in operations})


def op(
    order_id: str, seq: int, left: int = 5, ready: bool = True, setup_s: float = 60.0
) -> OpenOperation:
    return OpenOperation(order_id, seq, f"op{seq}", left, setup_s, 30.0, ready, DUE)


def queue(the_plan: Plan, *ops: OpenOperation) -> Queue:
    """The one queue the plan makes of these operations."""
    (only,) = machine_queues(the_plan, ops).values()
    return only


def jobs(dispatch: DispatchList) -> list[tuple[str, int]]:
    return [(job.order_id, job.operation) for job in dispatch.jobs]


def test_jobs_go_to_the_machine_the_plan_put_them_on_in_planned_start_order() -> None:
    the_plan = plan(
        planned("B", 10, "saw-1", 0, 10),
        planned("A", 10, "saw-1", 10, 20),
        planned("A", 20, "weld-1", 20, 30),
        planned("C", 10, "saw-2", 0, 5),
    )
    ops = [op("A", 10), op("A", 20, ready=False), op("B", 10), op("C", 10)]

    lists = dispatch_lists(the_plan, ops)

    assert {m: jobs(d) for m, d in lists.items()} == {
        "saw-1": [("B", 10), ("A", 10)],
        "saw-2": [("C", 10)],
        "weld-1": [("A", 20)],
    }
    assert all(d.plan_made_at == NOW and d.machine == m for m, d in lists.items())


def test_a_job_carries_what_is_left_its_times_readiness_and_due_date() -> None:
    the_plan = plan(planned("A", 10, "saw-1", 0, 3), planned("A", 20, "weld-1", 3, 8))
    ops = [op("A", 10, left=4, setup_s=0.0), op("A", 20, left=6, ready=False)]

    first, second = (dispatch_lists(the_plan, ops)[m].jobs[0] for m in ("saw-1", "weld-1"))

    assert (first.quantity, first.setup_s, first.cycle_s, first.ready) == (4, 0.0, 30.0, True)
    assert (first.planned_start, first.planned_end, first.due_at) == (at(0), at(3), DUE)
    assert (second.name, second.quantity, second.setup_s, second.ready) == ("op20", 6, 60.0, False)


def test_a_machine_with_nothing_planned_gets_an_empty_list() -> None:
    lists = dispatch_lists(plan(planned("A", 10, "saw-2", 0, 5)), [op("A", 10)], ["saw-1"])

    assert jobs(lists["saw-1"]) == []
    assert jobs(lists["saw-2"]) == [("A", 10)]


def test_operations_with_no_parts_left_or_not_in_the_plan_are_left_out() -> None:
    the_plan = plan(planned("A", 10, "saw-1", 0, 5), planned("B", 10, "saw-1", 5, 9))
    ops = [op("A", 10, left=0), op("B", 10), op("NEW", 10)]

    assert jobs(dispatch_lists(the_plan, ops)["saw-1"]) == [("B", 10)]


def test_a_list_keeps_only_the_first_max_jobs() -> None:
    the_plan = plan(*(planned(f"O{i}", 10, "saw-1", i, i + 1) for i in range(5)))
    ops = [op(f"O{i}", 10) for i in range(5)]

    assert jobs(dispatch_lists(the_plan, ops, max_jobs=2)["saw-1"]) == [("O0", 10), ("O1", 10)]


def test_a_list_from_the_scheduler_encodes_to_what_the_contract_parses() -> None:
    job = PlanJob("A", DUE, NOW, (PlanOperation(10, ("saw-1",), 60, 300),))
    the_plan = schedule([job], [PlanMachine("saw-1")], NOW, Rule.EDD)

    dispatch = dispatch_lists(the_plan, [op("A", 10)])["saw-1"]

    assert parse_dispatch(encode(dispatch)) == dispatch


def test_a_new_plan_of_the_same_queue_is_no_news() -> None:
    the_plan = plan(planned("A", 10, "saw-1", 0, 5))
    replanned = Plan(at(5), Rule.EDD, the_plan.operations)

    before = machine_queues(the_plan, [op("A", 10)])
    assert news(before, machine_queues(replanned, [op("A", 10)])) == []


def test_planned_times_sliding_less_than_the_tolerance_are_no_news_more_are() -> None:
    before = queue(plan(planned("A", 10, "saw-1", 0, 5)), op("A", 10))
    slid = queue(plan(planned("A", 10, "saw-1", 0.5, 5.5)), op("A", 10))
    moved = queue(plan(planned("A", 10, "saw-1", 2, 7)), op("A", 10))

    assert not changed(before, slid, tolerance_s=60)
    assert changed(before, moved, tolerance_s=60)
    assert changed(before, slid, tolerance_s=0)


def test_a_job_in_or_out_reordered_a_quantity_or_readiness_is_news() -> None:
    the_plan = plan(planned("A", 10, "saw-1", 0, 5), planned("B", 10, "saw-1", 5, 9))
    swapped = plan(planned("B", 10, "saw-1", 0, 4), planned("A", 10, "saw-1", 4, 9))
    before = queue(the_plan, op("A", 10), op("B", 10))

    assert changed(None, before)
    assert changed(before, queue(the_plan, op("A", 10)))
    assert changed(before, queue(swapped, op("A", 10), op("B", 10)))
    assert changed(before, queue(the_plan, op("A", 10, left=4), op("B", 10)))
    assert changed(before, queue(the_plan, op("A", 10), op("B", 10, ready=False)))


def test_only_the_machines_whose_queue_changed_are_news() -> None:
    the_plan = plan(planned("A", 10, "saw-1", 0, 5), planned("B", 10, "saw-2", 0, 5))
    before = machine_queues(the_plan, [op("A", 10), op("B", 10)])
    after = machine_queues(the_plan, [op("A", 10), op("B", 10, left=3)], ["saw-3"])

    assert news(before, after) == ["saw-2", "saw-3"]
