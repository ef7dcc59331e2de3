"""The downtime rules: which stops are records, the reason an alarm gives, the Pareto."""

from __future__ import annotations

from datetime import timedelta

from tests.clock import T0
from tracker.domain.downtime import (
    Category,
    ParetoBar,
    ParetoBy,
    Reason,
    ReasonCatalogue,
    Stop,
    is_record,
    pareto,
    stop_of,
)

MIN = timedelta(minutes=1)
SPINDLE = Reason("spindle", "Spindle fault", Category.MECHANICAL)
JAM = Reason("jam", "Material jammed", Category.MATERIAL)
CATALOGUE = ReasonCatalogue(
    reasons={"spindle": SPINDLE, "jam": JAM},
    alarms={"SP-301": "spindle", "WF-204": "spindle"},
    machine_alarms={"weld-1": {"WF-204": "jam"}},
)


def test_down_is_a_stop_and_idle_only_while_a_job_is_bound() -> None:
    assert stop_of("DOWN", None) == "DOWN"
    assert stop_of("IDLE", "SO-1") == "IDLE"
    assert stop_of("IDLE", None) is None
    assert stop_of("RUNNING", "SO-1") is None
    assert stop_of("OFFLINE", "SO-1") is None  # unknown, not a stop


def test_a_stop_is_a_record_once_it_lasted_longer_than_the_minimum() -> None:
    assert not is_record(T0, T0 + 30 * timedelta(seconds=1), T0, 60)
    assert not is_record(T0, T0 + MIN, T0, 60)
    assert is_record(T0, T0 + 2 * MIN, T0, 60)
    assert not is_record(T0, None, T0 + 30 * timedelta(seconds=1), 60)  # open, still short
    assert is_record(T0, None, T0 + 5 * MIN, 60)


def test_an_alarm_gives_the_machine_s_own_reason_before_the_plant_wide_one() -> None:
    assert CATALOGUE.reason_for_alarm("saw-1", "SP-301") == SPINDLE
    assert CATALOGUE.reason_for_alarm("saw-1", "WF-204") == SPINDLE
    assert CATALOGUE.reason_for_alarm("weld-1", "WF-204") == JAM
    assert CATALOGUE.reason_for_alarm("saw-1", "XX-1") is None
    assert CATALOGUE.reason_for_alarm("saw-1", None) is None


def _stops() -> list[Stop]:
    return [
        Stop("saw-1", T0, T0 + 10 * MIN, "spindle", "mechanical"),
        Stop("saw-2", T0 + 5 * MIN, T0 + 8 * MIN, "jam", "material"),
        Stop("saw-2", T0 + 20 * MIN, None, None, None),  # open: counts up to now
        Stop("saw-1", T0 - 30 * MIN, T0 - 20 * MIN, "jam", "material"),  # before the window
    ]


def test_the_pareto_clips_stops_to_the_window_and_counts_open_ones_up_to_now() -> None:
    bars = pareto(_stops(), T0 + 2 * MIN, T0 + 60 * MIN, T0 + 24 * MIN, ParetoBy.REASON)
    assert bars == [
        ParetoBar("spindle", 8.0, 1),
        ParetoBar("unclassified", 4.0, 1),
        ParetoBar("jam", 3.0, 1),
    ]


def test_the_pareto_groups_by_machine_and_by_category() -> None:
    by_machine = pareto(_stops(), T0, T0 + 60 * MIN, T0 + 30 * MIN, ParetoBy.MACHINE)
    assert by_machine == [ParetoBar("saw-2", 13.0, 2), ParetoBar("saw-1", 10.0, 1)]
    by_category = pareto(_stops(), T0, T0 + 60 * MIN, T0 + 30 * MIN, ParetoBy.CATEGORY)
    assert [b.key for b in by_category] == ["mechanical", "unclassified", "material"]
