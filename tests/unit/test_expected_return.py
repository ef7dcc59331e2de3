"""When a stopped machine is expected back: the median of its alarm's past repairs, else the
plan's allowance."""

from __future__ import annotations

from datetime import timedelta

from tests.clock import T0
from tracker.domain.expected_return import REPAIRS_KEPT, expected_return

ALLOWANCE_S = 1800.0


def test_a_stop_with_past_repairs_of_its_alarm_is_back_after_their_median() -> None:
    back = expected_return(T0, [300.0, 900.0, 600.0], ALLOWANCE_S)
    assert (back.at, back.basis, back.repairs, back.typical_s) == (
        T0 + timedelta(minutes=10),
        "repairs",
        3,
        600.0,
    )


def test_only_the_newest_repairs_count() -> None:
    newest_first = [60.0] * REPAIRS_KEPT + [9999.0] * 5
    back = expected_return(T0, newest_first, ALLOWANCE_S)
    assert (back.repairs, back.typical_s) == (REPAIRS_KEPT, 60.0)


def test_a_stop_without_history_is_back_after_the_plans_allowance_from_its_start() -> None:
    back = expected_return(T0, [], ALLOWANCE_S)
    assert (back.at, back.basis, back.repairs, back.typical_s) == (
        T0 + timedelta(minutes=30),
        "plan",
        0,
        None,
    )
