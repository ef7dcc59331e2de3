"""Machine events in the domain: counter resets and wraps, stale events, scrap, states, silence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tracker.domain.machine import CycleCount, Machine, StateInterval
from tracker.domain.model import DomainError, Operation, Order

T0 = datetime(2024, 3, 1, 8, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _counting(counter: int, at: float = 0.0) -> Machine:
    """A machine whose last counted cycle reported `counter` at `_at(at)`."""
    return Machine("press-1", last_counter=counter, last_count_at=_at(at))


# --- counters: resets, wraps, stale events ----------------------------------------------------


def test_counter_reset_to_zero_counts_the_new_value_not_a_negative_or_a_jump() -> None:
    machine = _counting(500)

    count = machine.count_cycle(3, _at(60))

    assert count == CycleCount(3, 0, "reset")
    assert machine.last_counter == 3
    assert machine.count_cycle(5, _at(70)).good == 2


def test_counter_wrap_counts_across_the_declared_wrap_value() -> None:
    machine = _counting(65_534)

    assert machine.count_cycle(2, _at(10), wrap=65_536) == CycleCount(4, 0, "wrap")


def test_counter_drop_far_from_the_wrap_value_is_a_reset() -> None:
    machine = _counting(1_000)

    assert machine.count_cycle(2, _at(10), wrap=65_536) == CycleCount(2, 0, "reset")


def test_counter_drop_without_a_newer_timestamp_is_stale_and_counts_nothing() -> None:
    machine = _counting(500, at=60)

    count = machine.count_cycle(3, _at(60))

    assert count.good == 0 and count.stale
    assert machine.last_counter == 500
    assert machine.stale_events == 1


def test_event_older_than_the_last_counted_cycle_is_stale_even_with_a_higher_counter() -> None:
    # a delayed event from before a reset: its part is in no later cumulative value we can trust
    machine = _counting(1_000, at=0)
    machine.count_cycle(5, _at(30))  # reset

    count = machine.count_cycle(1_001, _at(10))

    assert count.good == 0 and count.stale and count.note is not None
    assert machine.last_counter == 5


def test_repeated_counter_counts_nothing() -> None:
    machine = _counting(42, at=5)

    assert machine.count_cycle(42, _at(6)) == CycleCount(0, 0, "repeated")
    assert machine.stale_events == 0


def test_scrap_counter_advances_scrap_by_its_delta_and_starts_from_its_first_value() -> None:
    machine = Machine("press-1")

    assert machine.count_cycle(10, _at(0), scrap_counter=4) == CycleCount(1, 0)
    assert machine.count_cycle(12, _at(10), scrap_counter=5) == CycleCount(2, 1)
    assert machine.count_cycle(12, _at(20), scrap_counter=7) == CycleCount(0, 2)


def test_first_cycle_with_the_good_counter_at_zero_counts_its_part_as_scrap() -> None:
    # a welder whose first part was scrap: counter 0, scrap counter 1 (seen in the OEE e2e test)
    machine = Machine("weld-1")

    assert machine.count_cycle(0, _at(0), scrap_counter=1) == CycleCount(0, 1)
    assert machine.count_cycle(1, _at(10), scrap_counter=1) == CycleCount(1, 0)
    assert machine.count_cycle(1, _at(20), scrap_counter=2) == CycleCount(0, 1)


def test_first_cycle_counts_one_good_part_unless_only_scrap_was_ever_counted() -> None:
    assert Machine("weld-1").count_cycle(1, _at(0), scrap_counter=0) == CycleCount(1, 0)
    assert Machine("weld-1").count_cycle(0, _at(0), scrap_counter=0) == CycleCount(1, 0)
    assert Machine("weld-1").count_cycle(0, _at(0)) == CycleCount(1, 0)
    # both counters above 0: which one moved is unknown, and a part is good until shown scrap
    assert Machine("weld-1").count_cycle(7, _at(0), scrap_counter=3) == CycleCount(1, 0)


def test_first_baseline_counts_no_part_even_with_only_scrap_counted() -> None:
    machine = Machine("weld-1")

    assert machine.count_cycle(0, _at(0), scrap_counter=4, baseline=True).scrap == 0
    assert machine.count_cycle(0, _at(10), scrap_counter=5) == CycleCount(0, 1)


def test_scrap_counter_first_heard_beside_a_known_good_counter_counts_no_scrap() -> None:
    machine = _counting(0)

    assert machine.count_cycle(0, _at(10), scrap_counter=3) == CycleCount(0, 0, "repeated")


def test_first_scrap_part_leaves_the_operation_open_until_its_good_parts_are_made() -> None:
    # the tracker once counted a first scrap part as good: the operation completed a part early
    # and the parts after it went uncounted (good capped at the quantity, one scrap lost)
    op = Operation(10, "weld", "weld-1", setup_s=0, cycle_s=10, quantity=2)
    order = Order("SO-1", "ACME", "x", 2, _at(3600), [op], created_at=T0)
    order.release(T0)
    machine = Machine("weld-1")

    for i, (good, scrap) in enumerate([(0, 1), (1, 1), (1, 2), (2, 2)]):
        count = machine.count_cycle(good, _at(10 * i), scrap_counter=scrap)
        order.record_good(10, count.good, _at(10 * i))
        order.record_scrap(10, count.scrap, _at(10 * i))
        assert (op.good_qty, op.scrap_qty) == ([0, 1, 1, 2][i], [1, 1, 2, 2][i])

    assert op.completed_at == _at(30)


def test_scrap_counter_reset_counts_its_new_value() -> None:
    machine = Machine("press-1", last_counter=10, last_scrap_counter=9, last_count_at=T0)

    assert machine.count_cycle(11, _at(10), scrap_counter=1) == CycleCount(1, 1, "reset")


def test_scrap_is_kept_on_the_operation_and_is_not_progress() -> None:
    op = Operation(10, "press", "press-1", setup_s=0, cycle_s=10, quantity=2)
    order = Order("SO-1", "ACME", "x", 2, _at(3600), [op], created_at=T0)
    order.release(T0)

    order.record_good(10, 2, _at(20))
    order.record_scrap(10, 3, _at(20))

    assert op.scrap_qty == 3 and op.good_qty == 2
    assert order.percent == 100.0
    assert order.record_scrap(10, 0, _at(30)) == 0


# --- states and their durations --------------------------------------------------------------


def test_state_change_closes_the_previous_states_interval() -> None:
    machine = Machine("press-1")

    assert machine.set_state("RUNNING", _at(0)).closed is None
    change = machine.set_state("DOWN", _at(90))

    assert change.closed == StateInterval("press-1", "RUNNING", _at(0), _at(90))
    assert change.closed.seconds == 90
    assert (machine.state, machine.state_since) == ("DOWN", _at(90))


def test_same_state_again_keeps_its_start() -> None:
    machine = Machine("press-1")
    machine.set_state("RUNNING", _at(0))

    assert machine.set_state("RUNNING", _at(50)).closed is None
    assert machine.state_since == _at(0)


def test_state_event_older_than_the_current_state_is_rejected_with_a_reason() -> None:
    machine = Machine("press-1")
    machine.set_state("RUNNING", _at(100))

    change = machine.set_state("DOWN", _at(50))

    assert change.closed is None and change.rejected is not None and "older" in change.rejected
    assert (machine.state, machine.state_since) == ("RUNNING", _at(100))
    assert machine.stale_events == 1


def test_unknown_state_is_a_domain_error() -> None:
    with pytest.raises(DomainError):
        Machine("press-1").set_state("ON_FIRE", T0)


# --- silence and OFFLINE ---------------------------------------------------------------------


def test_machine_silent_for_the_threshold_goes_offline_from_its_last_event() -> None:
    machine = Machine("press-1")
    machine.set_state("RUNNING", _at(0))
    machine.heard(_at(100), now=_at(101))

    assert machine.mark_offline_if_silent(_at(300), after_s=300) is None
    change = machine.mark_offline_if_silent(_at(401), after_s=300)

    assert change is not None
    assert change.closed == StateInterval("press-1", "RUNNING", _at(0), _at(100))
    assert (machine.state, machine.state_since) == ("OFFLINE", _at(100))
    assert machine.mark_offline_if_silent(_at(9_000), after_s=300) is None


def test_silence_is_judged_by_the_trackers_clock_not_the_devices() -> None:
    machine = Machine("press-1")
    machine.heard(_at(-86_400), now=_at(0))  # device clock a day behind

    assert not machine.is_silent(_at(10), after_s=300)


def test_machine_heard_again_comes_back_from_offline() -> None:
    machine = Machine("press-1")
    machine.heard(_at(0), now=_at(0))
    machine.mark_offline_if_silent(_at(400), after_s=300)

    change = machine.heard(_at(500), now=_at(500), back_as="RUNNING")

    assert change.closed == StateInterval("press-1", "OFFLINE", _at(0), _at(500))
    assert machine.state == "RUNNING"


def test_machine_never_heard_is_not_silent() -> None:
    assert not Machine("press-1").is_silent(_at(10_000), after_s=300)
