"""The forward scheduler: each dispatching rule, work centers, running operations, calendars."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.domain.planning.calendar import add_working, next_working
from tracker.domain.planning.dispatching_rules import schedule
from tracker.domain.planning.jobshop import check_feasible
from tracker.domain.planning.model import (
    ALWAYS,
    Calendar,
    Plan,
    PlanJob,
    PlanMachine,
    PlanOperation,
    Rule,
    Shift,
)

NOW = datetime(2024, 3, 4, 8, tzinfo=UTC)  # a Monday
H = 3600.0
WEEKDAYS = frozenset(range(5))
TWO_SHIFTS = Calendar(
    "two-shift",
    "Europe/Berlin",
    (Shift(WEEKDAYS, time(6), time(14)), Shift(WEEKDAYS, time(14), time(22))),
    (Shift(WEEKDAYS, time(12), time(12, 30)),),
)


def at(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)


def op(
    seq: int, *machines: str, hours: float = 1.0, setup_h: float = 0.0, running: str | None = None
) -> PlanOperation:
    return PlanOperation(seq, machines, setup_h * H, hours * H, running)


def job(
    order_id: str, *ops: PlanOperation, due: float = 24, released: float = 0, priority: int = 0
) -> PlanJob:
    return PlanJob(order_id, at(due), at(released), ops, priority)


def sequence(plan: Plan, machine: str) -> list[str]:
    """Order ids in the order their operations run on `machine`."""
    on = sorted((p.start, p.order_id) for p in plan.operations.values() if p.machine == machine)
    return [order_id for _, order_id in on]


MILL = [PlanMachine("mill")]


def test_edd_takes_the_order_due_first() -> None:
    jobs = [job(o, op(10, "mill"), due=d) for o, d in (("a", 30), ("b", 10), ("c", 20))]
    assert sequence(schedule(jobs, MILL, NOW, Rule.EDD), "mill") == ["b", "c", "a"]


def test_edd_is_the_default_rule() -> None:
    assert schedule([], MILL, NOW).rule is Rule.EDD


def test_release_takes_the_order_released_first() -> None:
    jobs = [
        job(o, op(10, "mill"), released=r, due=d)
        for o, r, d in (("a", -1, 5), ("b", -3, 30), ("c", -2, 20))
    ]
    assert sequence(schedule(jobs, MILL, NOW, Rule.RELEASE), "mill") == ["b", "c", "a"]


def test_spt_takes_the_shortest_operation_first() -> None:
    jobs = [job(o, op(10, "mill", hours=h), due=d) for o, h, d in (("a", 3, 5), ("b", 1, 9))]
    assert sequence(schedule(jobs, MILL, NOW, Rule.SPT), "mill") == ["b", "a"]


def test_critical_ratio_favours_the_order_with_most_work_left_for_its_time() -> None:
    long_job = job("long", op(10, "mill"), op(20, "lathe", hours=8), due=10)  # 10 h for 9 h
    short_job = job("short", op(10, "mill"), due=5)  # 5 h for 1 h
    machines = [PlanMachine("mill"), PlanMachine("lathe")]
    assert sequence(schedule([long_job, short_job], machines, NOW, Rule.CR), "mill") == [
        "long",
        "short",
    ]
    assert sequence(schedule([long_job, short_job], machines, NOW, Rule.EDD), "mill") == [
        "short",
        "long",
    ]


def test_critical_ratio_puts_the_latest_order_first_once_orders_are_late() -> None:
    jobs = [job("late", op(10, "mill", hours=4), due=-8), job("later", op(10, "mill"), due=-4)]
    # ratios -2 and -4: the order 4 h late with 1 h left is worse off
    assert sequence(schedule(jobs, MILL, NOW, Rule.CR), "mill") == ["later", "late"]


def test_atc_among_late_orders_weighs_priority_over_processing_time() -> None:
    light = job("light", op(10, "mill", hours=2), due=-10)  # weight 1 over 2 h
    heavy = job("heavy", op(10, "mill", hours=3), due=-5, priority=2)  # weight 3 over 3 h
    assert sequence(schedule([light, heavy], MILL, NOW, Rule.ATC), "mill") == ["heavy", "light"]
    assert sequence(schedule([light, heavy], MILL, NOW, Rule.EDD), "mill") == ["light", "heavy"]


def test_atc_defers_a_short_operation_with_plenty_of_slack() -> None:
    relaxed = job("relaxed", op(10, "mill", hours=1), due=1000)
    urgent = job("urgent", op(10, "mill", hours=2), due=0)
    assert sequence(schedule([relaxed, urgent], MILL, NOW, Rule.ATC), "mill") == [
        "urgent",
        "relaxed",
    ]
    assert sequence(schedule([relaxed, urgent], MILL, NOW, Rule.SPT), "mill") == [
        "relaxed",
        "urgent",
    ]


@pytest.mark.parametrize("rule", list(Rule))
def test_ties_go_to_higher_priority_then_to_the_order_id(rule: Rule) -> None:
    jobs = [job(o, op(10, "mill"), priority=p) for o, p in (("x", 0), ("y", 1), ("a", 0))]
    assert sequence(schedule(jobs, MILL, NOW, rule), "mill") == ["y", "a", "x"]


def test_a_work_center_runs_operations_on_all_its_machines_at_once() -> None:
    machines = [PlanMachine("cnc-1"), PlanMachine("cnc-2")]
    jobs = [job(o, op(10, "cnc-1", "cnc-2"), due=d) for o, d in (("a", 1), ("b", 2), ("c", 3))]
    plan = schedule(jobs, machines, NOW)
    assert [plan.operations[o, 10].start for o in "abc"] == [NOW, NOW, at(1)]
    assert {plan.operations["a", 10].machine, plan.operations["b", 10].machine} == {
        "cnc-1",
        "cnc-2",
    }


def test_an_operation_goes_to_the_machine_where_it_finishes_first() -> None:
    one_hour_a_day = Calendar("hour", "UTC", (Shift(frozenset(range(7)), time(8), time(9)),))
    machines = [PlanMachine("slow", one_hour_a_day), PlanMachine("fast")]
    plan = schedule([job("a", op(10, "slow", "fast", hours=2))], machines, NOW)
    assert plan.operations["a", 10].machine == "fast"
    assert plan.operations["a", 10].end == at(2)


def test_a_machine_down_until_later_is_used_from_then_on() -> None:
    machines = [PlanMachine("mill", available_at=at(3))]
    plan = schedule([job("a", op(10, "mill"))], machines, NOW)
    assert plan.operations["a", 10].start == at(3)


def test_a_running_operation_goes_first_on_its_machine_when_it_is_back() -> None:
    machines = [PlanMachine("cnc-1", available_at=at(1)), PlanMachine("cnc-2", available_at=at(5))]
    running = job("running", op(10, "cnc-1", "cnc-2", running="cnc-1"), due=100)
    urgent = job("urgent", op(10, "cnc-1", "cnc-2"), due=1)
    plan = schedule([urgent, running], machines, NOW)
    assert plan.operations["running", 10].machine == "cnc-1"
    assert plan.operations["running", 10].start == at(1)
    assert plan.operations["urgent", 10].start == at(2)


def test_a_running_operation_stays_on_its_machine_even_when_another_is_free() -> None:
    machines = [PlanMachine("cnc-1"), PlanMachine("cnc-2", available_at=at(4))]
    plan = schedule([job("r", op(10, "cnc-1", "cnc-2", running="cnc-2"))], machines, NOW)
    assert (plan.operations["r", 10].machine, plan.operations["r", 10].start) == ("cnc-2", at(4))


def test_a_running_operation_waits_for_the_next_shift() -> None:
    saturday = datetime(2024, 3, 9, 10, tzinfo=UTC)
    machines = [PlanMachine("mill", TWO_SHIFTS)]
    running = PlanJob("r", saturday, saturday, (op(10, "mill", running="mill"),))
    plan = schedule([running], machines, saturday)
    assert plan.operations["r", 10].start == datetime(2024, 3, 11, 5, tzinfo=UTC)


def test_operations_of_an_order_run_in_routing_order() -> None:
    machines = [PlanMachine("saw"), PlanMachine("mill")]
    plan = schedule([job("a", op(10, "saw", hours=2), op(20, "mill"))], machines, NOW)
    assert plan.operations["a", 20].start == plan.operations["a", 10].end == at(2)
    assert plan.eta("a") == at(3)


def test_an_order_released_later_starts_at_its_release() -> None:
    plan = schedule([job("a", op(10, "mill"), released=5)], MILL, NOW)
    assert plan.operations["a", 10].start == at(5)


def test_work_pauses_outside_the_machines_shifts() -> None:
    friday_evening = datetime(2024, 3, 8, 20, tzinfo=UTC)  # 21:00 in Berlin
    machines = [PlanMachine("mill", TWO_SHIFTS)]
    order = PlanJob("a", friday_evening, friday_evening, (op(10, "mill", hours=2, setup_h=1),))
    plan = schedule([order], machines, friday_evening)
    assert plan.operations["a", 10].end == add_working(TWO_SHIFTS, friday_evening, 3 * H)
    assert plan.operations["a", 10].end == datetime(2024, 3, 11, 7, tzinfo=UTC)


def test_an_order_needing_a_machine_not_in_the_plant_is_left_unplanned_with_the_reason() -> None:
    jobs = [job("a", op(10, "mill"), op(20, "weld-9")), job("b", op(10, "mill"))]
    plan = schedule(jobs, MILL, NOW)
    assert plan.unplanned == {"a": "operation 20: no machine 'weld-9' in the plant"}
    assert plan.eta("a") is None and ("a", 10) not in plan.operations
    assert plan.operations["b", 10].start == NOW


def test_an_order_running_on_a_machine_not_in_the_plant_is_left_unplanned() -> None:
    plan = schedule([job("a", op(10, "mill", running="gone"))], MILL, NOW)
    assert plan.unplanned == {"a": "operation 10: running on 'gone', not in the plant"}


def test_unknown_machines_among_known_candidates_are_ignored() -> None:
    plan = schedule([job("a", op(10, "weld-9", "mill"))], MILL, NOW)
    assert plan.operations["a", 10].machine == "mill" and not plan.unplanned


def test_an_order_only_machines_that_never_work_could_do_is_left_unplanned() -> None:
    never = Calendar("mothballed", "UTC", (Shift(frozenset(), time(6), time(14)),))
    machines = [PlanMachine("mill"), PlanMachine("old", never)]
    jobs = [job("a", op(10, "mill"), op(20, "old")), job("b", op(10, "old", "mill"))]
    plan = schedule(jobs, machines, NOW)
    assert plan.unplanned == {"a": "operation 20: no working time on 'old' (calendar 'mothballed')"}
    assert plan.operations["b", 10].machine == "mill"


def test_zero_length_operations_take_no_time() -> None:
    plan = schedule([job("a", op(10, "mill", hours=0), op(20, "mill"))], MILL, NOW)
    assert plan.operations["a", 10].start == plan.operations["a", 10].end == NOW
    assert plan.eta("a") == at(1)


def test_an_order_with_nothing_left_to_do_is_done_when_released() -> None:
    plan = schedule([job("done"), job("later", released=2)], MILL, NOW)
    assert (plan.eta("done"), plan.eta("later")) == (NOW, at(2))


def test_bad_input_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="aware"):
        schedule([], MILL, datetime(2024, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="twice"):
        schedule([job("a"), job("a")], MILL, NOW)
    with pytest.raises(ValueError, match="twice"):
        schedule([], MILL + MILL, NOW)
    with pytest.raises(ValueError, match="negative"):
        schedule([job("a", op(10, "mill", hours=-1))], MILL, NOW)
    with pytest.raises(ValueError, match="atc_k"):
        schedule([], MILL, NOW, Rule.ATC, atc_k=0)


@pytest.mark.parametrize("rule", list(Rule))
def test_a_long_queue_is_planned_feasibly_by_every_rule(rule: Rule) -> None:
    # queues longer than the dynamic rules' search depth, on shifts, with priorities
    rnd = random.Random(7)
    machines = [PlanMachine(f"m{k}", TWO_SHIFTS) for k in range(3)] + [PlanMachine("x")]
    jobs = [
        job(
            f"o{j:03d}",
            op(10, "m0", "m1", "m2", hours=rnd.uniform(0, 3)),
            op(20, "x", "m2", hours=rnd.choice([0, 0.5, 2])),
            due=rnd.uniform(-20, 400),
            released=rnd.uniform(-10, 50),
            priority=rnd.choice([0, 1, 3]),
        )
        for j in range(400)
    ]
    plan = schedule(jobs, machines, NOW, rule)
    assert check_feasible(plan, jobs, machines, NOW) == []


# --- properties over random plants, orders, calendars and rules ---

CALENDARS = [
    ALWAYS,
    TWO_SHIFTS,
    Calendar(
        "nights",
        "America/New_York",
        (Shift(frozenset(range(7)), time(22), time(6)),),
        (Shift(frozenset(range(7)), time(2), time(2, 20)),),
    ),
    Calendar("weekends", "Asia/Kolkata", (Shift(frozenset({5, 6}), time(9, 30), time(17)),)),
]
WORK = st.one_of(st.just(0.0), st.floats(min_value=0, max_value=5 * H))
HOURS = st.floats(min_value=-48, max_value=200)


@st.composite
def problems(draw: st.DrawFn) -> tuple[list[PlanJob], list[PlanMachine], Rule]:
    machines = [
        PlanMachine(
            f"m{k}",
            draw(st.sampled_from(CALENDARS)),
            draw(st.one_of(st.none(), HOURS.map(at))),
        )
        for k in range(draw(st.integers(1, 6)))
    ]
    names = [m.machine_id for m in machines] + ["ghost"]
    free = [m.machine_id for m in machines]  # at most one running operation per machine
    jobs = []
    for j in range(draw(st.integers(0, 8))):
        ops = []
        for s in range(draw(st.integers(0, 4))):
            running = None
            if s == 0 and free and draw(st.booleans()):
                running = free.pop(draw(st.integers(0, len(free) - 1)))
            candidates = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
            ops.append(
                PlanOperation(10 * (s + 1), tuple(candidates), draw(WORK), draw(WORK), running)
            )
        due, released, priority = draw(HOURS), draw(HOURS), draw(st.integers(-1, 3))
        jobs.append(PlanJob(f"o{j}", at(due), at(released), tuple(ops), priority))
    return jobs, machines, draw(st.sampled_from(list(Rule)))


@settings(max_examples=300, deadline=None)
@given(problems())
def test_every_plan_is_feasible_complete_and_respects_calendars(
    problem: tuple[list[PlanJob], list[PlanMachine], Rule],
) -> None:
    jobs, machines, rule = problem
    plan = schedule(jobs, machines, NOW, rule)
    assert check_feasible(plan, jobs, machines, NOW) == []
    known = {m.machine_id for m in machines}
    expected_unplanned = {
        j.order_id
        for j in jobs
        if any(
            not ({o.running_on} if o.running_on else set(o.machines)) & known for o in j.operations
        )
    }
    assert set(plan.unplanned) == expected_unplanned
    assert set(plan.etas) == {j.order_id for j in jobs} - expected_unplanned


@settings(max_examples=200, deadline=None)
@given(problems())
def test_running_operations_start_first_on_their_machine(
    problem: tuple[list[PlanJob], list[PlanMachine], Rule],
) -> None:
    jobs, machines, rule = problem
    plan = schedule(jobs, machines, NOW, rule)
    by_id = {m.machine_id: m for m in machines}
    for j in jobs:
        if j.order_id in plan.unplanned or not j.operations or not j.operations[0].running_on:
            continue
        first = j.operations[0]
        machine = by_id[first.running_on or ""]
        planned = plan.operations[j.order_id, first.seq]
        up = max(NOW, machine.available_at or NOW)
        assert planned.machine == machine.machine_id
        assert planned.start == next_working(machine.calendar, up)


@settings(max_examples=100, deadline=None)
@given(problems(), st.randoms(use_true_random=False))
def test_the_plan_is_the_same_whatever_the_order_of_the_orders(
    problem: tuple[list[PlanJob], list[PlanMachine], Rule], rnd: random.Random
) -> None:
    jobs, machines, rule = problem
    shuffled = list(jobs)
    rnd.shuffle(shuffled)
    assert schedule(shuffled, machines, NOW, rule) == schedule(jobs, machines, NOW, rule)


@pytest.mark.parametrize("rule", list(Rule))
def test_vanishing_work_is_planned_by_every_rule(rule: Rule) -> None:
    # 5e-324 s of work once overflowed the critical ratio to infinity: nothing was taken
    now = datetime(2026, 1, 5, 8, tzinfo=UTC)
    due = datetime(2026, 1, 6, tzinfo=UTC)
    tiny = (PlanOperation(10, ("m",), 0.0, 5e-324), PlanOperation(20, ("m",), 0.0, 5e-324))
    jobs = [PlanJob(f"J{i}", due, now, tiny) for i in range(3)]

    plan = schedule(jobs, [PlanMachine("m")], now, rule)

    assert plan.unplanned == {} and len(plan.operations) == 6


def test_a_work_center_operation_does_not_take_a_machine_kept_for_a_running_one() -> None:
    # o3 runs on m3 (bound by job_start, though routed elsewhere); o1 may go on m1 or m3, and
    # would finish sooner on m3 (m1 breaks at noon Berlin time): m1 must take it all the same
    now = datetime(2024, 3, 4, 8, tzinfo=UTC)  # a Monday, 09:00 in Berlin
    day = Calendar(
        "day",
        "Europe/Berlin",
        (Shift(frozenset(range(5)), time(6), time(22)),),
        (Shift(frozenset(range(5)), time(12), time(12, 30)),),
    )
    running = PlanJob("o3", now, now, (PlanOperation(10, ("m0",), 0.0, 60.0, "m3"),))
    waiting = PlanJob("o1", now, now, (PlanOperation(10, ("m3", "m1"), 0.0, 10801.0),))
    machines = [PlanMachine("m0"), PlanMachine("m1", day), PlanMachine("m3")]

    plan = schedule([waiting, running], machines, now, Rule.RELEASE)

    assert plan.operations[("o3", 10)].start == now
    assert plan.operations[("o1", 10)].machine == "m1"
