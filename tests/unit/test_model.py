"""The order aggregate: progress, operation hand-over, ETA, schedule events, machine counters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tracker.domain import events
from tracker.domain.machine import CycleCount, Machine
from tracker.domain.model import (
    DomainError,
    Operation,
    OperationState,
    Order,
    OrderStatus,
    ScheduleStatus,
)
from tracker.domain.schedule import ScheduleRules

T0 = datetime(2024, 3, 1, 8, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _op(
    seq: int, quantity: int = 4, cycle_s: float = 10.0, setup_s: float = 0.0, machine: str = "cnc-1"
) -> Operation:
    return Operation(
        seq=seq,
        name=f"op{seq}",
        machine=machine,
        setup_s=setup_s,
        cycle_s=cycle_s,
        quantity=quantity,
    )


def _order(*ops: Operation, due_in_s: float = 3600.0) -> Order:
    return Order(
        order_id="SO-1",
        customer="ACME",
        product="bracket",
        quantity=4,
        due_at=_at(due_in_s),
        operations=list(ops) or [_op(10), _op(20, machine="mill-1")],
        created_at=T0,
    )


# --- construction ----------------------------------------------------------------------------


def test_order_needs_at_least_one_operation() -> None:
    with pytest.raises(DomainError, match="at least one operation"):
        Order("SO-1", "ACME", "bracket", 1, _at(60), [], T0)


def test_order_refuses_repeated_operation_numbers() -> None:
    with pytest.raises(DomainError, match="repeats"):
        _order(_op(10), _op(10))


def test_order_refuses_a_naive_due_date() -> None:
    with pytest.raises(DomainError, match="timezone-aware"):
        Order("SO-1", "ACME", "bracket", 1, datetime(2024, 3, 2), [_op(10)], T0)  # noqa: DTZ001


def test_order_refuses_a_naive_creation_time() -> None:
    with pytest.raises(DomainError, match="timezone-aware"):
        naive = datetime(2024, 3, 1)  # noqa: DTZ001
        Order("SO-1", "ACME", "bracket", 1, _at(60), [_op(10)], naive)


def test_operations_are_worked_in_sequence_order_whatever_the_input_order() -> None:
    order = _order(_op(30), _op(10), _op(20))

    assert [op.seq for op in order.operations] == [10, 20, 30]
    assert order.current is order.operation(10)


def test_new_order_is_received_with_every_operation_pending() -> None:
    order = _order()

    assert order.status is OrderStatus.RECEIVED
    assert {op.state for op in order.operations} == {OperationState.PENDING}
    assert order.percent == 0.0


def test_release_makes_only_the_first_operation_active() -> None:
    order = _order()

    order.release(T0)

    assert order.status is OrderStatus.RELEASED
    assert [op.state for op in order.operations] == [OperationState.ACTIVE, OperationState.PENDING]


def test_unknown_operation_is_a_domain_error() -> None:
    with pytest.raises(DomainError, match="no operation 99"):
        _order().operation(99)


# --- working operations ----------------------------------------------------------------------


def test_starting_an_operation_puts_the_order_in_progress() -> None:
    order = _order()

    op = order.start_operation(10, _at(5))

    assert op.state is OperationState.RUNNING
    assert op.started_at == _at(5)
    assert order.status is OrderStatus.IN_PROGRESS


def test_restarting_a_running_operation_keeps_its_first_start_time() -> None:
    order = _order()
    order.start_operation(10, _at(5))

    order.start_operation(10, _at(50))

    assert order.operation(10).started_at == _at(5)


def test_good_parts_without_a_job_start_start_the_operation() -> None:
    order = _order()

    assert order.record_good(10, 1, _at(10)) == 1

    assert order.operation(10).state is OperationState.RUNNING
    assert order.status is OrderStatus.IN_PROGRESS


@pytest.mark.parametrize("parts", [0, -1])
def test_no_parts_count_nothing(parts: int) -> None:
    order = _order()

    assert order.record_good(10, parts, _at(10)) == 0
    assert order.operation(10).good_qty == 0


def test_operation_completes_at_quantity_and_the_next_becomes_active() -> None:
    order = _order(_op(10, quantity=2), _op(20, quantity=2))
    order.start_operation(10, _at(0))

    order.record_good(10, 1, _at(10))
    assert order.operation(10).state is OperationState.RUNNING
    order.record_good(10, 1, _at(20))

    assert order.operation(10).state is OperationState.COMPLETED
    assert order.operation(10).completed_at == _at(20)
    assert order.operation(20).state is OperationState.ACTIVE
    assert order.current is order.operation(20)
    assert order.status is OrderStatus.IN_PROGRESS
    assert order.events == [
        events.OperationStarted("SO-1", 10, _at(0)),
        events.OperationCompleted("SO-1", 10, _at(20)),
    ]


def test_parts_beyond_the_quantity_are_not_counted() -> None:
    order = _order(_op(10, quantity=3), _op(20))

    counted = order.record_good(10, 5, _at(10))

    assert counted == 3
    assert order.operation(10).good_qty == 3
    assert order.operation(10).state is OperationState.COMPLETED


def test_parts_for_a_completed_operation_count_zero_and_raise_no_event() -> None:
    order = _order(_op(10, quantity=1), _op(20))
    order.record_good(10, 1, _at(10))
    events_before = list(order.events)

    assert order.record_good(10, 1, _at(20)) == 0
    assert order.operation(10).good_qty == 1
    assert order.events == events_before


def test_order_completes_after_its_last_operation() -> None:
    order = _order(_op(10, quantity=1), _op(20, quantity=1))
    order.record_good(10, 1, _at(10))
    assert order.status is not OrderStatus.COMPLETED

    order.record_good(20, 1, _at(25))

    assert order.status is OrderStatus.COMPLETED
    assert order.completed_at == _at(25)
    assert order.eta == _at(25)
    assert order.current is None
    assert order.percent == 100.0
    assert order.events == [
        events.OperationStarted("SO-1", 10, _at(10)),
        events.OperationCompleted("SO-1", 10, _at(10)),
        events.OperationStarted("SO-1", 20, _at(25)),
        events.OperationCompleted("SO-1", 20, _at(25)),
        events.OrderCompleted("SO-1", _at(25)),
    ]


def test_an_operation_is_started_once_even_when_a_job_restarts() -> None:
    order = _order(_op(10, quantity=5))
    order.start_operation(10, _at(0))
    order.start_operation(10, _at(30))  # job_start again after a pause

    assert order.events == [events.OperationStarted("SO-1", 10, _at(0))]
    assert order.operation(10).started_at == _at(0)


def test_completed_order_refuses_a_new_job_start() -> None:
    order = _order(_op(10, quantity=1))
    order.record_good(10, 1, _at(10))

    with pytest.raises(DomainError, match="already completed"):
        order.start_operation(10, _at(20))


def test_completed_operation_refuses_a_new_job_start() -> None:
    order = _order(_op(10, quantity=1), _op(20))
    order.record_good(10, 1, _at(10))

    with pytest.raises(DomainError, match="operation 10 .* already completed"):
        order.start_operation(10, _at(20))


# --- progress --------------------------------------------------------------------------------


def test_progress_counts_setup_once_started_and_each_good_part() -> None:
    order = _order(_op(10, quantity=4, cycle_s=10, setup_s=20), _op(20, quantity=4, cycle_s=10))
    # planned: 20 + 40 = 60 for op 10, 40 for op 20, 100 in all

    order.start_operation(10, _at(0))
    assert order.percent == pytest.approx(20.0)
    order.record_good(10, 1, _at(30))
    assert order.percent == pytest.approx(30.0)
    assert order.operation(10).percent == pytest.approx(50.0)


def test_progress_never_goes_above_100_percent() -> None:
    order = _order(_op(10, quantity=2), _op(20, quantity=2))
    for seq in (10, 20):
        order.record_good(seq, 10, _at(10))
        order.record_good(seq, 10, _at(20))

    assert order.percent == 100.0
    assert all(op.percent == 100.0 for op in order.operations)


def test_progress_never_goes_backwards_through_a_messy_event_stream() -> None:
    order = _order(_op(10, quantity=3, setup_s=30), _op(20, quantity=2, setup_s=5))
    stream: list[tuple[str, int, int]] = [
        ("count", 20, 1),  # a later operation reports first
        ("start", 10, 0),
        ("count", 10, 1),
        ("count", 10, 0),  # a repeated counter counts 0
        ("start", 10, 0),  # a redelivered job start
        ("count", 10, 5),  # more than the quantity
        ("count", 10, 1),  # after completion
        ("count", 20, 3),
    ]
    seen = [order.percent]
    for i, (kind, seq, parts) in enumerate(stream):
        if kind == "start":
            order.start_operation(seq, _at(i))
        else:
            order.record_good(seq, parts, _at(i))
        seen.append(order.percent)

    assert seen == sorted(seen)
    assert all(0.0 <= p <= 100.0 for p in seen)
    assert seen[-1] == 100.0


def test_operation_with_no_planned_work_is_fully_done_by_definition() -> None:
    op = _op(10, quantity=0, cycle_s=0)

    assert op.percent == 100.0


# --- ETA -------------------------------------------------------------------------------------


def test_eta_before_any_work_is_now_plus_all_planned_work() -> None:
    order = _order(_op(10, quantity=4, cycle_s=10, setup_s=20), _op(20, quantity=2, cycle_s=5))

    assert order.project(_at(100)) == _at(100 + 60 + 10)


def test_eta_drops_the_setup_of_a_started_operation() -> None:
    order = _order(_op(10, quantity=4, cycle_s=10, setup_s=20))
    order.start_operation(10, _at(0))

    assert order.project(_at(0)) == _at(40)


def test_eta_uses_the_reported_cycle_time_once_parts_are_counted() -> None:
    order = _order(_op(10, quantity=4, cycle_s=10))
    order.record_good(10, 1, _at(30), cycle_time_s=30.0)

    # 3 parts left at the observed 30 s, not the planned 10 s
    assert order.operation(10).observed_cycle_s == 30.0
    assert order.project(_at(30)) == _at(30 + 90)


def test_cycle_time_is_derived_from_count_spacing_when_not_reported() -> None:
    order = _order(_op(10, quantity=10, cycle_s=10))
    order.record_good(10, 1, _at(0))
    assert order.operation(10).observed_cycle_s is None  # one count gives no spacing yet

    order.record_good(10, 2, _at(40))

    assert order.operation(10).observed_cycle_s == pytest.approx(20.0)


def test_observed_cycle_time_is_a_running_average_weighted_to_the_newest() -> None:
    order = _order(_op(10, quantity=10, cycle_s=10))
    order.record_good(10, 1, _at(10), cycle_time_s=10.0)

    order.record_good(10, 1, _at(30), cycle_time_s=20.0)

    assert order.operation(10).observed_cycle_s == pytest.approx(0.3 * 20 + 0.7 * 10)


def test_eta_of_a_completed_order_is_its_completion_time() -> None:
    order = _order(_op(10, quantity=1))
    order.record_good(10, 1, _at(10))

    assert order.project(_at(5000)) == _at(10)


# --- schedule --------------------------------------------------------------------------------

NO_SLACK = ScheduleRules(at_risk_slack_s=0, recovery_margin_s=0)


def _assess(order: Order, now: datetime) -> ScheduleStatus:
    """The schedule status with no slack and no machine trouble (on time or late only)."""
    return order.assess_schedule(now, {}, NO_SLACK)


def test_on_track_order_raises_no_schedule_event() -> None:
    order = _order(_op(10, quantity=4, cycle_s=10), due_in_s=100)

    assert _assess(order, _at(0)) is ScheduleStatus.ON_TRACK
    assert order.eta == _at(40)
    assert order.events == []


def test_order_falls_behind_once_when_eta_passes_due_across_repeated_checks() -> None:
    order = _order(_op(10, quantity=4, cycle_s=10), due_in_s=100)
    _assess(order, _at(0))

    for t in (70, 80, 90, 100):
        assert _assess(order, _at(t)) is ScheduleStatus.LATE

    fell = [e for e in order.events if isinstance(e, events.OrderFellBehind)]
    reason = "projected to finish 2024-03-01 08:01Z, 10 s after its due date 2024-03-01 08:01Z"
    assert fell == [events.OrderFellBehind("SO-1", "late", _at(110), _at(100), (reason,), _at(70))]
    assert order.schedule_status is ScheduleStatus.LATE


def test_late_order_gets_back_on_track_when_work_catches_up() -> None:
    order = _order(_op(10, quantity=4, cycle_s=10), due_in_s=100)
    _assess(order, _at(70))  # ETA 110 > due 100: late
    order.record_good(10, 3, _at(75), cycle_time_s=5.0)

    status = _assess(order, _at(75))

    assert status is ScheduleStatus.ON_TRACK
    assert order.schedule_status is ScheduleStatus.ON_TRACK
    back = [e for e in order.events if isinstance(e, events.OrderBackOnTrack)]
    assert len(back) == 1
    assert back[0].at == _at(75) and back[0].due_at == _at(100)
    assert back[0].eta <= _at(100)
    assert _assess(order, _at(76)) is ScheduleStatus.ON_TRACK
    assert len([e for e in order.events if isinstance(e, events.OrderBackOnTrack)]) == 1


def test_order_flapping_raises_one_event_per_change() -> None:
    order = _order(_op(10, quantity=4, cycle_s=10), due_in_s=100)

    _assess(order, _at(70))  # late
    _assess(order, _at(50))  # on track again (an earlier clock, e.g. a replay)
    _assess(order, _at(70))  # late again

    kinds = [type(e) for e in order.events]
    assert kinds == [events.OrderFellBehind, events.OrderBackOnTrack, events.OrderFellBehind]


def test_eta_exactly_at_due_is_on_track() -> None:
    order = _order(_op(10, quantity=4, cycle_s=10), due_in_s=100)

    assert _assess(order, _at(60)) is ScheduleStatus.ON_TRACK


def test_order_completed_after_its_due_date_stays_late() -> None:
    order = _order(_op(10, quantity=1, cycle_s=10), due_in_s=100)
    order.record_good(10, 1, _at(150))

    assert _assess(order, _at(200)) is ScheduleStatus.LATE
    assert order.eta == _at(150)


def test_schedule_check_with_a_naive_now_is_refused() -> None:
    order = _order()

    with pytest.raises(DomainError):
        _assess(order, datetime(2024, 3, 1, 9))  # noqa: DTZ001


def test_machine_events_with_naive_times_are_refused() -> None:
    order = _order()
    naive = datetime(2024, 3, 1, 9)  # noqa: DTZ001
    with pytest.raises(DomainError):
        order.start_operation(order.operations[0].seq, naive)
    with pytest.raises(DomainError):
        order.record_good(order.operations[0].seq, 1, naive)


# --- machine counters ------------------------------------------------------------------------


def test_first_counter_a_machine_reports_counts_one_part() -> None:
    machine = Machine("cnc-1")

    assert machine.count_cycle(1234, T0).good == 1
    assert machine.last_counter == 1234


def test_counter_increase_counts_the_difference() -> None:
    machine = Machine("cnc-1", last_counter=10, last_count_at=T0)

    assert machine.count_cycle(11, T0 + timedelta(seconds=1)).good == 1
    assert machine.count_cycle(14, T0 + timedelta(seconds=2)).good == 3
    assert machine.last_counter == 14


def test_redelivered_counter_does_not_count_twice() -> None:
    machine = Machine("cnc-1")
    machine.count_cycle(5, T0)

    assert machine.count_cycle(5, T0) == CycleCount(0, 0, "repeated")
    assert machine.last_counter == 5


def test_stale_counter_counts_zero_and_does_not_move_the_counter_back() -> None:
    machine = Machine("cnc-1", last_counter=10, last_count_at=T0)

    assert machine.count_cycle(7, T0 - timedelta(seconds=5)).good == 0
    assert machine.last_counter == 10
    assert machine.count_cycle(11, T0 + timedelta(seconds=5)).good == 1


def test_machine_binds_and_releases_only_its_current_job() -> None:
    machine = Machine("cnc-1")
    machine.bind("SO-1", 10)

    machine.release("SO-2", 10)
    assert (machine.order_id, machine.seq) == ("SO-1", 10)
    machine.release("SO-1", 20)
    assert (machine.order_id, machine.seq) == ("SO-1", 10)
    machine.release("SO-1", 10)
    assert (machine.order_id, machine.seq) == (None, None)


def test_a_late_order_reports_news_only_when_its_eta_or_reasons_change() -> None:
    order = _order(_op(10, quantity=4, cycle_s=10), due_in_s=30)
    _assess(order, _at(0))  # late from the start: 40 s of work, due in 30 s
    order.events.clear()
    for t in (1, 2, 3):  # the ETA slides by seconds: no news for the open alert
        _assess(order, _at(t))
    assert order.events == []
    _assess(order, _at(100))  # due date passed, ETA moved by more than a minute
    assert [type(e).__name__ for e in order.events] == ["OrderScheduleUpdated"]
