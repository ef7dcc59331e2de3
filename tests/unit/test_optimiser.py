"""The CP-SAT optimiser: optimum on ft06, feasible plans, never worse than its hint, pins."""

from __future__ import annotations

import dataclasses
import random
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from tracker.adapters.optimiser import optimise
from tracker.domain.planning.comparison import better, total_tardiness_s
from tracker.domain.planning.dispatching_rules import schedule
from tracker.domain.planning.jobshop import check_feasible, makespan, parse_instance, to_plan_input
from tracker.domain.planning.model import (
    Calendar,
    Plan,
    PlanJob,
    PlanMachine,
    PlannedOperation,
    PlanOperation,
    Rule,
    Shift,
)
from tracker.service_layer.optimiser import OptimiserUnavailable

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
DATA = Path(__file__).resolve().parents[1] / "data" / "jobshop"


def _at(s: float) -> datetime:
    return NOW + timedelta(seconds=s)


def _job(order: str, due_s: float, *ops: tuple[float, str], released_s: float = 0) -> PlanJob:
    steps = tuple(
        PlanOperation(10 * (k + 1), tuple(m.split("|")), 0.0, work)
        for k, (work, m) in enumerate(ops)
    )
    return PlanJob(order, _at(due_s), _at(released_s), steps)


def _mixed(seed: int) -> tuple[list[PlanJob], list[PlanMachine]]:
    """Releases, due dates, a work center, a machine down for a while and running operations."""
    rng = random.Random(seed)
    machines = [PlanMachine("a"), PlanMachine("b", available_at=_at(300)), PlanMachine("c1")]
    machines.append(PlanMachine("c2"))
    jobs = []
    for j in range(8):
        route = rng.sample(["a", "b", "c1|c2"], k=rng.randint(1, 3))
        ops = [
            PlanOperation(
                10 * (k + 1), tuple(m.split("|")), rng.randint(0, 60), rng.randint(30, 400)
            )
            for k, m in enumerate(route)
        ]
        if j < 2 and len(ops[0].machines) == 1:  # the first op runs already: no setup left
            ops[0] = dataclasses.replace(ops[0], setup_s=0.0, running_on=ops[0].machines[0])
        due, released = rng.randint(200, 1500), rng.choice([0, 0, rng.randint(1, 400)])
        jobs.append(PlanJob(f"o{j}", _at(due), _at(released), tuple(ops)))
    return jobs, machines


def test_ft06_reaches_its_optimum_55_within_a_ten_second_limit() -> None:
    # bounded by time_limit_s (CP-SAT proves 55 in well under a second on 2 cores)
    jobs, machines = to_plan_input(parse_instance((DATA / "ft06.txt").read_text()), NOW)
    # due dates past any schedule: no tardiness, so the makespan decides
    jobs = [dataclasses.replace(job, due_at=_at(10**6)) for job in jobs]
    hint = min(
        (schedule(jobs, machines, NOW, rule) for rule in Rule), key=lambda p: makespan(p, NOW)
    )
    plan = optimise(jobs, machines, NOW, time_limit_s=10, hint=hint)
    assert plan is not None
    assert makespan(plan, NOW) == 55
    assert check_feasible(plan, jobs, machines, NOW) == []
    assert plan.rule == hint.rule
    assert better(plan, hint, jobs)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("rule", [Rule.EDD, Rule.SPT])
def test_the_plan_is_feasible_and_never_more_tardy_than_its_hint(seed: int, rule: Rule) -> None:
    jobs, machines = _mixed(seed)
    hint = schedule(jobs, machines, NOW, rule)
    plan = optimise(jobs, machines, NOW, time_limit_s=1, hint=hint)
    assert plan is not None
    assert check_feasible(plan, jobs, machines, NOW) == []
    assert total_tardiness_s(plan, jobs) <= total_tardiness_s(hint, jobs)
    assert not better(hint, plan, jobs)


def test_fractional_times_give_a_feasible_plan_with_the_exact_work() -> None:
    now = NOW + timedelta(microseconds=250_000)
    jobs = [_job("a", 100, (10.4, "m"), (3.3, "n")), _job("b", 100, (0.0, "m"), (7.7, "m"))]
    machines = [PlanMachine("m"), PlanMachine("n", available_at=now + timedelta(seconds=2.5))]
    plan = optimise(jobs, machines, now, time_limit_s=2, hint=schedule(jobs, machines, now))
    assert plan is not None
    assert check_feasible(plan, jobs, machines, now) == []


def test_tardiness_comes_first_and_makespan_second() -> None:
    # the shortest makespan (40) makes A 20 s late; on time for both costs a makespan of 50
    jobs = [_job("A", 20, (10, "m1"), (10, "m2")), _job("B", 100, (30, "m2"))]
    plan = optimise(jobs, [PlanMachine("m1"), PlanMachine("m2")], NOW, time_limit_s=2)
    assert plan is not None
    assert plan.etas == {"A": _at(20), "B": _at(50)}
    assert plan.rule == Rule.EDD


def test_a_running_operation_stays_on_its_machine_and_starts_when_it_is_up() -> None:
    running = PlanOperation(10, ("m",), 0.0, 100, running_on="m")
    jobs = [
        PlanJob("late-anyway", _at(10), _at(0), (running,)),
        _job("urgent", 60, (50, "m")),  # would be on time if it could go first
    ]
    machines = [PlanMachine("m", available_at=_at(30))]
    plan = optimise(jobs, machines, NOW, time_limit_s=2)
    assert plan is not None
    first = plan.operations["late-anyway", 10]
    assert (first.machine, first.start, first.end) == ("m", _at(30), _at(130))
    assert plan.operations["urgent", 10].start == _at(130)


def test_a_down_machine_takes_nothing_before_it_is_up() -> None:
    jobs = [_job("a", 1000, (60, "m"))]
    plan = optimise(jobs, [PlanMachine("m", available_at=_at(600))], NOW, time_limit_s=2)
    assert plan is not None
    assert plan.operations["a", 10].start == _at(600)


def test_a_work_center_uses_both_machines_for_the_least_tardiness() -> None:
    jobs = [_job(name, 3600, (3600, "w1|w2")) for name in ("a", "b", "c")]
    jobs[2] = dataclasses.replace(jobs[2], due_at=_at(7200))
    machines = [PlanMachine("w1"), PlanMachine("w2", available_at=_at(1800))]
    plan = optimise(jobs, machines, NOW, time_limit_s=2)
    assert plan is not None
    assert check_feasible(plan, jobs, machines, NOW) == []
    assert total_tardiness_s(plan, jobs) == 1800  # w2 is up 30 min late: one order must wait
    assert {plan.operations[o, 10].machine for o in ("a", "b", "c")} == {"w1", "w2"}
    assert plan.etas["c"] <= _at(7200)


def test_orders_with_no_machine_or_nothing_left_are_handled_like_the_dispatcher() -> None:
    jobs = [
        _job("lost", 100, (10, "nowhere")),
        PlanJob("finished", _at(100), _at(50), ()),
        _job("ok", 100, (10, "m")),
    ]
    plan = optimise(jobs, [PlanMachine("m")], NOW, time_limit_s=2)
    assert plan is not None
    assert set(plan.unplanned) == {"lost"}
    assert plan.etas == {"finished": _at(50), "ok": _at(10)}


def test_a_shift_calendar_leaves_the_dispatch_plan_alone() -> None:
    day = Calendar("day", shifts=(Shift(frozenset(range(5)), time(6), time(14)),))
    jobs = [_job("a", 100, (10, "m"))]
    assert optimise(jobs, [PlanMachine("m", calendar=day)], NOW, time_limit_s=2) is None


def test_better_weighs_left_out_orders_then_tardiness_then_the_end() -> None:
    jobs = [_job("a", 100, (10, "m"))]

    def plan(end_s: float, unplanned: bool = False) -> Plan:
        if unplanned:
            return Plan(NOW, Rule.EDD, unplanned={"a": "no machine"})
        op = PlannedOperation("a", 10, "m", _at(end_s - 10), _at(end_s))
        return Plan(NOW, Rule.EDD, {("a", 10): op}, {"a": _at(end_s)})

    assert better(plan(500), plan(0, unplanned=True), jobs)
    assert better(plan(150), plan(160), jobs)  # 50 s late beats 60 s late
    assert better(plan(20), plan(90), jobs)  # both on time: the earlier end
    assert not better(plan(90), plan(90), jobs)


def test_without_ortools_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ortools.sat.python", "ortools.sat.python.cp_model"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(OptimiserUnavailable, match=r"shopfloor\[optimize\]"):
        optimise([_job("a", 100, (10, "m"))], [PlanMachine("m")], NOW)
