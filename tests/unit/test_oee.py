"""OEE arithmetic against hand-computed shifts, and its invariants as properties."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.domain.oee import Oee, PartRun, StatePeriod, machine_oee, total
from tracker.domain.planning.calendar import WorkingTime
from tracker.domain.planning.model import ALWAYS, Calendar, Shift

WEEKDAYS = frozenset(range(5))
# two shifts, 06-14 and 14-22, a 30 min break at 10:00; 2026-03-02 is a Monday
CAL = Calendar(
    name="two-shift",
    shifts=(Shift(WEEKDAYS, time(6), time(14)), Shift(WEEKDAYS, time(14), time(22))),
    breaks=(Shift(WEEKDAYS, time(10), time(10, 30)),),
)
WORK = WorkingTime(CAL)
DAY = datetime(2026, 3, 2, tzinfo=UTC)
MIN = 60.0


def at(hour: float) -> datetime:
    return DAY + timedelta(hours=hour)


def ts(hour: float) -> float:
    return at(hour).timestamp()


def period(state: str, a: float, b: float | None) -> StatePeriod:
    return StatePeriod(state, ts(a), None if b is None else ts(b))


def minutes(o: Oee) -> dict[str, float]:
    return {
        "planned": o.planned_s / MIN,
        "run": o.run_s / MIN,
        "unplanned": o.unplanned_stop_s / MIN,
        "unknown": o.unknown_s / MIN,
        "performance": o.performance_loss_s / MIN,
        "quality": o.quality_loss_s / MIN,
        "effective": o.effective_s / MIN,
    }


def test_a_shift_with_a_break_and_a_job_with_scrap() -> None:
    # running all shift (through the break), 400 good and 20 scrap parts at an ideal 60 s
    states = [period("RUNNING", 6, 14)]
    parts = [PartRun(ts(6), ts(14), good=400, scrap=20, ideal_cycle_s=60)]
    o = machine_oee(at(6), at(14), at(14), WORK, states, parts)
    # 8 h less the 30 min break = 450 min planned, all of it run; 420 parts = 420 ideal minutes
    assert minutes(o) == pytest.approx(
        {
            "planned": 450,
            "run": 450,
            "unplanned": 0,
            "unknown": 0,
            "performance": 30,
            "quality": 20,
            "effective": 400,
        }
    )
    assert o.availability == pytest.approx(1.0)
    assert o.performance == pytest.approx(420 / 450)
    assert o.quality == pytest.approx(400 / 420)
    assert o.oee == pytest.approx(400 / 450)
    assert (o.good, o.scrap) == (400, 20)


def test_a_breakdown_across_a_shift_boundary_counts_in_both_shifts() -> None:
    states = [period("RUNNING", 6, 13), period("DOWN", 13, 15), period("RUNNING", 15, 22)]
    first = machine_oee(at(6), at(14), at(23), WORK, states)
    second = machine_oee(at(14), at(22), at(23), WORK, states)
    assert minutes(first)["unplanned"] == pytest.approx(60)
    assert minutes(first)["run"] == pytest.approx(390)
    assert minutes(second)["unplanned"] == pytest.approx(60)
    assert minutes(second)["run"] == pytest.approx(420)
    day = total([first, second])
    assert day.availability == pytest.approx(810 / 930)


def test_an_hour_offline_is_unknown_never_running() -> None:
    states = [period("RUNNING", 6, 8), period("OFFLINE", 8, 9), period("RUNNING", 9, None)]
    o = machine_oee(at(6), at(14), at(14), WORK, states)
    assert minutes(o)["unknown"] == pytest.approx(60)
    assert minutes(o)["run"] == pytest.approx(390)
    assert o.availability == pytest.approx(390 / 450)


def test_time_before_the_first_state_is_unknown() -> None:
    o = machine_oee(at(6), at(14), at(14), WORK, [period("IDLE", 6.5, 14)])
    assert minutes(o)["unknown"] == pytest.approx(30)
    assert minutes(o)["unplanned"] == pytest.approx(420)


def test_a_changeover_declared_planned_leaves_planned_production_time() -> None:
    states = [period("SETUP", 6, 6.75), period("RUNNING", 6.75, 14)]
    planned = machine_oee(at(6), at(14), at(14), WORK, states)
    assert minutes(planned)["planned"] == pytest.approx(405)
    assert planned.planned_stop_s == pytest.approx(45 * MIN)
    assert planned.availability == pytest.approx(1.0)
    unplanned = machine_oee(at(6), at(14), at(14), WORK, states, planned_stops=frozenset())
    assert minutes(unplanned)["planned"] == pytest.approx(450)
    assert minutes(unplanned)["unplanned"] == pytest.approx(45)


def test_a_live_shift_counts_up_to_now_with_the_open_state() -> None:
    o = machine_oee(at(6), at(14), at(8), WORK, [period("RUNNING", 5, None)])
    assert minutes(o)["planned"] == pytest.approx(120)
    assert o.availability == pytest.approx(1.0)


def test_parts_of_an_operation_crossing_the_window_follow_its_running_time() -> None:
    states = [period("RUNNING", 6, 8), period("DOWN", 8, 9), period("RUNNING", 9, 10)]
    parts = [PartRun(ts(6), ts(10), good=180, scrap=0, ideal_cycle_s=60)]
    o = machine_oee(at(6), at(8), at(12), WORK, states, parts)
    # 120 of its 180 running minutes are in the window: 120 of its 180 parts
    assert o.good == pytest.approx(120)
    assert o.performance == pytest.approx(1.0)


def test_a_routing_slower_than_the_machine_caps_performance() -> None:
    parts = [PartRun(ts(6), ts(7), good=120, scrap=0, ideal_cycle_s=60)]
    o = machine_oee(at(6), at(7), at(7), WORK, [period("RUNNING", 6, 7)], parts)
    assert o.performance == 1.0 and o.oee == pytest.approx(1.0)


def test_nothing_planned_gives_no_ratios() -> None:
    saturday = DAY + timedelta(days=5)
    o = machine_oee(saturday, saturday + timedelta(days=1), saturday + timedelta(days=2), WORK, [])
    assert o == Oee() and o.availability is None and o.oee is None


STATES = st.sampled_from(["RUNNING", "IDLE", "DOWN", "SETUP", "OFFLINE"])


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[StatePeriod], list[PartRun], float, float, float]:
    cuts = sorted(draw(st.lists(st.floats(0, 48), min_size=1, max_size=12)))
    states = [
        StatePeriod(draw(STATES), ts(a), ts(b) if b is not None else None)
        for a, b in zip(cuts, [*cuts[1:], None], strict=True)
    ]
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        a = draw(st.floats(0, 48))
        b = draw(st.floats(a, 48))
        good, scrap = draw(st.integers(0, 5000)), draw(st.integers(0, 500))
        parts.append(PartRun(ts(a), ts(b), good, scrap, draw(st.floats(0.5, 600))))
    lo = draw(st.floats(0, 48))
    hi = draw(st.floats(lo, 60))
    return states, parts, lo, hi, draw(st.floats(0, 60))


@settings(max_examples=200, deadline=None)
@given(histories(), st.booleans())
def test_ratios_are_fractions_and_losses_add_up_to_planned_time(
    history: tuple[list[StatePeriod], list[PartRun], float, float, float], shifts: bool
) -> None:
    states, parts, lo, hi, now = history
    work = WORK if shifts else WorkingTime(ALWAYS)
    o = machine_oee(at(lo), at(hi), at(now), work, states, parts)
    for ratio in (o.availability, o.performance, o.quality, o.oee):
        assert ratio is None or 0.0 <= ratio <= 1.0
    assert o.effective_s + sum(o.losses_s().values()) == pytest.approx(o.planned_s, abs=1e-6)
    assert o.planned_s + o.planned_stop_s == pytest.approx(
        work.between(at(lo).timestamp(), min(at(hi), at(now)).timestamp()), abs=1e-6
    )


def test_working_spans_add_up_to_working_seconds_over_a_dst_change() -> None:
    berlin = WorkingTime(Calendar(name="berlin", timezone="Europe/Berlin", shifts=CAL.shifts))
    a, b = ts(0), ts(24 * 28)  # four weeks over the last Sunday of March
    spans = berlin.spans(a, b)
    assert sum(e - s for s, e in spans) == pytest.approx(berlin.between(a, b))
    assert all(s < e for s, e in spans) and spans == sorted(spans)
    assert berlin.spans(b, a) == [] and WorkingTime(ALWAYS).spans(a, b) == [(a, b)]
