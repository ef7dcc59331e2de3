"""The estimator on cases with a known answer: one machine with exponential failures."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from tests.clock import T0
from tracker.domain.foresight.estimator import MachineRisk, forecast
from tracker.domain.foresight.learning import MachineHistory, histories
from tracker.domain.planning.model import Plan, PlannedOperation, Rule

HOUR = 3600.0


def _plan(*ops: tuple[str, int, str, float, float]) -> Plan:
    operations = {
        (o, s): PlannedOperation(o, s, m, T0 + timedelta(seconds=a), T0 + timedelta(seconds=b))
        for o, s, m, a, b in ops
    }
    return Plan(T0, Rule.EDD, operations, {o: T0 + timedelta(seconds=b) for o, _, _, _, b in ops})


def _poisson_cdf(k: int, lam: float) -> float:
    return sum(math.exp(-lam) * lam**i / math.factorial(i) for i in range(k + 1))


@pytest.mark.parametrize("slack_h", [0.5, 1.5, 3.0])
def test_one_machine_with_exponential_failures_matches_the_poisson_closed_form(
    slack_h: float,
) -> None:
    # 8 h of work, a failure every 6 h of running on average, each repair exactly 1 h: the
    # order is on time when at most floor(slack / 1 h) failures strike
    work, mtbf, mttr = 8 * HOUR, 6 * HOUR, HOUR
    risk = MachineRisk(mtbf_s=mtbf, mttr_s=mttr, repair_sigma=0.0, duration_cv=0.0)
    due = T0 + timedelta(seconds=work + slack_h * HOUR)
    got = forecast(_plan(("SO-1", 10, "m1", 0, work)), {"SO-1": due}, {"m1": risk}, T0, 40_000)
    expected = _poisson_cdf(math.floor(slack_h), work / mtbf)
    assert got["SO-1"].p_on_time == pytest.approx(expected, abs=0.01)


def test_p50_and_p90_follow_the_failures() -> None:
    risk = MachineRisk(mtbf_s=6 * HOUR, mttr_s=HOUR, repair_sigma=0.0, duration_cv=0.0)
    got = forecast(_plan(("SO-1", 10, "m1", 0, 8 * HOUR)), {"SO-1": T0}, {"m1": risk}, T0, 20_000)[
        "SO-1"
    ]
    # Poisson(4/3): median 1 failure, 90th percentile 3 failures
    assert got.p50 == T0 + timedelta(hours=9)
    assert got.p90 == T0 + timedelta(hours=11)
    assert got.reason is not None and got.reason.startswith("m1 fails about every 6.0 h")


def test_a_machine_that_never_fails_keeps_the_plan() -> None:
    risk = MachineRisk(mtbf_s=1e15, duration_cv=0.0)
    got = forecast(
        _plan(("SO-1", 10, "m1", 0, HOUR), ("SO-1", 20, "m2", HOUR, 2 * HOUR)),
        {"SO-1": T0 + timedelta(hours=2)},
        {"m1": risk, "m2": risk},
        T0,
    )["SO-1"]
    assert got.p_on_time == 1.0
    assert got.p90 == T0 + timedelta(hours=2)
    assert got.reason is None


def test_a_breakdown_upstream_delays_the_next_order_on_that_machine() -> None:
    fragile = MachineRisk(mtbf_s=2 * HOUR, mttr_s=2 * HOUR, repair_sigma=0.0, duration_cv=0.0)
    solid = MachineRisk(mtbf_s=1e15, duration_cv=0.0)
    plan = _plan(("A", 10, "m1", 0, 4 * HOUR), ("B", 10, "m1", 4 * HOUR, 5 * HOUR))
    due = {"A": T0 + timedelta(hours=4), "B": T0 + timedelta(hours=5)}
    got = forecast(plan, due, {"m1": fragile, "m2": solid}, T0, 20_000)
    # B waits for A: both on time only when no failure strikes A (P = e^-2); B's own hour
    # adds its own chance of failing (e^-0.5)
    assert got["A"].p_on_time == pytest.approx(math.exp(-2), abs=0.01)
    assert got["B"].p_on_time == pytest.approx(math.exp(-2.5), abs=0.01)


def test_a_machine_down_now_starts_after_its_repair() -> None:
    risk = MachineRisk(
        mtbf_s=1e15, mttr_s=HOUR, repair_sigma=0.0, duration_cv=0.0, down_left_s=2 * HOUR
    )
    got = forecast(_plan(("SO-1", 10, "m1", 1800, 1800 + HOUR)), {"SO-1": T0}, {"m1": risk}, T0)[
        "SO-1"
    ]
    assert got.p50 == T0 + timedelta(hours=3)
    assert got.reason is not None and "is down" in got.reason


def test_history_moves_the_prior_towards_what_was_seen() -> None:
    history = MachineHistory()
    t = T0
    for _ in range(8):  # 8 failures, each after 1 h running, each repaired in 30 min
        history.record("RUNNING", t)
        history.record("DOWN", t + timedelta(hours=1))
        t += timedelta(hours=1.5)
    history.record("RUNNING", t)
    prior = MachineRisk(mtbf_s=10 * HOUR, mttr_s=HOUR)
    risk = history.risk(prior, t, weight=2.0)
    assert risk.mtbf_s == pytest.approx((10 * HOUR * 2 + 8 * HOUR) / 10)
    assert risk.mttr_s == pytest.approx((HOUR * 2 + 8 * 1800) / 10)
    assert risk.down_left_s == 0.0


def test_stored_intervals_teach_each_machine_its_failures() -> None:
    hour = timedelta(hours=1)
    intervals = [
        ("weld-1", "RUNNING", T0, T0 + 3 * hour),
        ("weld-1", "DOWN", T0 + 3 * hour, T0 + 4 * hour),
        ("weld-1", "RUNNING", T0 + 4 * hour, T0 + 7 * hour),
        ("weld-1", "DOWN", T0 + 7 * hour, T0 + 8 * hour),
        ("saw-1", "RUNNING", T0, T0 + 8 * hour),
    ]
    learned = histories(intervals)
    prior = MachineRisk(mtbf_s=10 * HOUR, mttr_s=HOUR)
    weld = learned["weld-1"].risk(prior, T0)
    assert weld.mtbf_s == pytest.approx((20 * HOUR + 6 * HOUR) / 4)
    assert weld.mttr_s == pytest.approx(HOUR)
    assert learned["saw-1"].risk(prior, T0).mtbf_s == pytest.approx(28 * HOUR / 2)


def test_orders_still_to_come_go_ahead_when_due_first() -> None:
    # the order waits 2 h for its slot; orders due before it arrive once an hour on average:
    # it is on time only if none arrives before it starts (e^-2)
    risk = MachineRisk(
        mtbf_s=1e15,
        duration_cv=0.0,
        arrivals_per_s=1 / HOUR,
        arrival_work_s=HOUR,
        arrival_lead_s=HOUR,
    )
    plan = _plan(("SO-1", 10, "m1", 2 * HOUR, 3 * HOUR))
    due = {"SO-1": T0 + timedelta(hours=3)}
    got = forecast(plan, due, {"m1": risk}, T0, 40_000)["SO-1"]
    # arrivals count only until due - lead (2 h): mean 2 of them
    assert got.p_on_time == pytest.approx(math.exp(-2), abs=0.01)
    late_due = {"SO-1": T0 + timedelta(minutes=30)}  # due before any arrival could be
    assert forecast(plan, late_due, {"m1": risk}, T0)["SO-1"].p50 == T0 + timedelta(hours=3)


@pytest.mark.parametrize("slack_h", [-1.0, 0.0, 2.0])
def test_a_wait_that_may_stretch_matches_the_lognormal_closed_form(slack_h: float) -> None:
    # planned to start in 4 h and run 2 h on a machine that never fails; the wait is stretched
    # by max(1, a lognormal factor of mean 1 and CV 0.6): on time when 4 h x it <= 4 h + slack
    wait, work, cv = 4 * HOUR, 2 * HOUR, 0.6
    risk = MachineRisk(mtbf_s=1e15, duration_cv=0.0)
    due = T0 + timedelta(seconds=wait + work + slack_h * HOUR)
    plan = _plan(("SO-1", 10, "m1", wait, wait + work))
    got = forecast(plan, {"SO-1": due}, {"m1": risk}, T0, 40_000, queue_cv=cv)
    sigma = math.sqrt(math.log1p(cv * cv))
    x = (wait + slack_h * HOUR) / wait
    expected = (
        0.0 if x < 1 else 0.5 * (1 + math.erf((math.log(x) + sigma * sigma / 2) / (sigma * 2**0.5)))
    )
    assert got["SO-1"].p_on_time == pytest.approx(expected, abs=0.01)


def test_a_queue_spread_of_zero_draws_nothing_more() -> None:
    risk = MachineRisk(mtbf_s=6 * HOUR, mttr_s=HOUR)
    plan = _plan(("SO-1", 10, "m1", HOUR, 3 * HOUR), ("SO-2", 10, "m1", 3 * HOUR, 5 * HOUR))
    due = {"SO-1": T0 + timedelta(hours=4), "SO-2": T0 + timedelta(hours=6)}
    plain = forecast(plan, due, {"m1": risk}, T0, 2_000, seed=7)
    assert forecast(plan, due, {"m1": risk}, T0, 2_000, seed=7, queue_cv=0.0) == plain
    # the order that waits longest spreads wider
    spread = forecast(plan, due, {"m1": risk}, T0, 2_000, seed=7, queue_cv=0.6)
    assert spread["SO-2"].p90 - spread["SO-2"].p50 > plain["SO-2"].p90 - plain["SO-2"].p50
