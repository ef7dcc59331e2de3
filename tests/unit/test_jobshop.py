"""OR-Library job-shop instances: parsing, conversion to plan input, and feasible schedules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tracker.domain.planning.dispatching_rules import schedule
from tracker.domain.planning.jobshop import (
    JobShopInstance,
    check_feasible,
    extract_instance,
    makespan,
    parse_instance,
    to_plan_input,
)
from tracker.domain.planning.model import Plan, PlannedOperation, Rule

DATA = Path(__file__).resolve().parents[1] / "data" / "jobshop"
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
# name: (jobs, machines, optimal makespan)
INSTANCES = {"ft06": (6, 6, 55), "ft10": (10, 10, 930), "la01": (10, 5, 666)}


def load(name: str) -> JobShopInstance:
    return parse_instance((DATA / f"{name}.txt").read_text())


@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_each_instance_has_its_published_size(name: str) -> None:
    instance = load(name)
    n_jobs, n_machines, _ = INSTANCES[name]
    assert (instance.name, len(instance.jobs), instance.n_machines) == (name, n_jobs, n_machines)
    # in these instances every job visits every machine once
    assert all(sorted(m for m, _ in steps) == list(range(n_machines)) for steps in instance.jobs)


def test_ft06_is_read_as_published() -> None:
    instance = load("ft06")
    assert instance.description == "Fisher and Thompson 6x6 instance, alternate name (mt06)"
    assert instance.jobs[0] == ((2, 1), (0, 3), (1, 6), (3, 7), (5, 3), (4, 6))
    assert instance.jobs[5] == ((1, 3), (3, 3), (5, 9), (0, 10), (4, 4), (2, 1))


def test_an_instance_is_extracted_by_name_from_the_whole_library_text() -> None:
    library = "OR-Library header text\n\n" + "".join(
        (DATA / f"{name}.txt").read_text() for name in ("ft06", "ft10", "la01")
    )
    assert extract_instance(library, "ft10") == load("ft10")
    assert extract_instance(library, "la01") == load("la01")
    with pytest.raises(ValueError, match="ft20"):
        extract_instance(library, "ft20")


def test_a_malformed_instance_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="tiny.*2 jobs announced, 1 found"):
        parse_instance("instance tiny\n a tiny one\n 2 2\n 0 1 1 2\n")
    with pytest.raises(ValueError, match="tiny.*job 0"):
        parse_instance("instance tiny\n a tiny one\n 1 2\n 0 1 5 2\n")


def test_instances_become_jobs_released_and_due_at_the_epoch_on_machines_m0_to_mn() -> None:
    jobs, machines = to_plan_input(load("la01"), EPOCH)
    assert [m.machine_id for m in machines] == ["m0", "m1", "m2", "m3", "m4"]
    assert [j.order_id for j in jobs][:3] == ["j0", "j1", "j2"]
    assert {j.due_at for j in jobs} == {j.released_at for j in jobs} == {EPOCH}
    first = jobs[0].operations[0]
    assert (first.seq, first.machines, first.run_s, first.setup_s) == (1, ("m1",), 21.0, 0.0)


@pytest.mark.parametrize("rule", list(Rule))
@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_every_rule_schedules_the_benchmarks_feasibly(name: str, rule: Rule) -> None:
    jobs, machines = to_plan_input(load(name), EPOCH)
    plan = schedule(jobs, machines, EPOCH, rule)
    assert check_feasible(plan, jobs, machines, EPOCH) == []
    assert makespan(plan, EPOCH) >= INSTANCES[name][2]  # no schedule beats the optimum


def _ft06_plan() -> tuple[Plan, JobShopInstance]:
    instance = load("ft06")
    jobs, machines = to_plan_input(instance, EPOCH)
    return schedule(jobs, machines, EPOCH), instance


def test_the_checker_finds_overlaps_order_violations_and_missing_operations() -> None:
    plan, instance = _ft06_plan()
    jobs, machines = to_plan_input(instance, EPOCH)
    ops = dict(plan.operations)
    first = ops["j0", 1]
    # j0's second operation moved before its first; j1's first moved onto j0's first's machine
    ops["j0", 2] = replace(ops["j0", 2], start=first.start, end=first.start + timedelta(seconds=3))
    ops["j1", 1] = replace(ops["j1", 1], machine=first.machine, start=first.start)
    del ops["j5", 6]
    broken = replace(plan, operations=ops)
    problems = "\n".join(check_feasible(broken, jobs, machines, EPOCH))
    assert "j0/2 starts before it is ready" in problems
    assert "j1/1 is on m2, not one of ('m1',)" in problems
    assert "j5/6 is not planned" in problems


def test_the_checker_finds_work_that_does_not_match_and_overlapping_machines() -> None:
    plan, instance = _ft06_plan()
    jobs, machines = to_plan_input(instance, EPOCH)
    ops = dict(plan.operations)
    a = ops["j0", 1]
    after = min(p.start for p in ops.values() if p.machine == a.machine and p.start >= a.end)
    ops["j0", 1] = replace(a, end=after + timedelta(seconds=5))  # runs into the next one
    broken = replace(plan, operations=ops)
    problems = "\n".join(check_feasible(broken, jobs, machines, EPOCH))
    assert "j0/1 has" in problems and "s of work, not 1.0" in problems
    assert f"overlap on {a.machine}" in problems


def test_makespan_runs_from_the_epoch_to_the_last_end() -> None:
    empty = Plan(made_at=EPOCH, rule=Rule.EDD)
    assert makespan(empty, EPOCH) == 0.0
    one = PlannedOperation("a", 1, "m0", EPOCH, EPOCH + timedelta(seconds=42))
    assert makespan(replace(empty, operations={("a", 1): one}), EPOCH) == 42.0
