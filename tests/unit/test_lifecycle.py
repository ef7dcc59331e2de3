"""The order lifecycle: received, released, in progress, completed, shipped, cancelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tracker.domain import events
from tracker.domain.model import DomainError, Operation, OperationState, Order, OrderStatus
from tracker.domain.schedule import ScheduleRules, ScheduleStatus

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _order(qty: int = 10) -> Order:
    ops = [
        Operation(10, "cut", "saw-1", setup_s=60, cycle_s=30, quantity=qty),
        Operation(20, "weld", "weld-1", setup_s=60, cycle_s=40, quantity=qty),
    ]
    return Order("SO-1", "ACME", "bracket", qty, _at(600), ops, created_at=T0)


def _in(status: OrderStatus) -> Order:
    """An order brought to `status` through the legal transitions."""
    order = _order(2)
    if status is OrderStatus.RECEIVED:
        return order
    order.release(_at(1))
    if status is OrderStatus.RELEASED:
        return order
    order.start_operation(10, _at(2))
    if status is OrderStatus.IN_PROGRESS:
        return order
    order.record_good(10, 2, _at(3))
    order.record_good(20, 2, _at(4))
    if status is OrderStatus.COMPLETED:
        return order
    if status is OrderStatus.SHIPPED:
        order.ship(_at(5))
    else:
        order.cancel("customer withdrew", _at(5))
    return order


def test_each_transition_records_its_time() -> None:
    order = _in(OrderStatus.COMPLETED)
    order.ship(_at(5))

    assert order.status is OrderStatus.SHIPPED
    assert (order.created_at, order.released_at, order.started_at) == (T0, _at(1), _at(2))
    assert (order.completed_at, order.shipped_at, order.cancelled_at) == (_at(4), _at(5), None)
    assert events.OrderShipped("SO-1", _at(5)) in order.events


def test_releasing_twice_keeps_the_first_release_time() -> None:
    order = _order()
    order.release(_at(1))
    order.release(_at(9))

    assert order.released_at == _at(1)


def test_starting_a_received_order_releases_it_at_the_start() -> None:
    order = _order()
    order.start_operation(10, _at(3))

    assert (order.status, order.released_at, order.started_at) == (
        OrderStatus.IN_PROGRESS,
        _at(3),
        _at(3),
    )


@pytest.mark.parametrize(
    "status",
    [OrderStatus.RECEIVED, OrderStatus.RELEASED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED],
)
def test_anything_not_shipped_or_cancelled_can_be_cancelled(status: OrderStatus) -> None:
    order = _in(status)

    order.cancel("  customer withdrew ", _at(9))

    assert order.status is OrderStatus.CANCELLED
    assert (order.cancelled_at, order.cancel_reason) == (_at(9), "customer withdrew")
    assert order.events[-1] == events.OrderCancelled("SO-1", "customer withdrew", _at(9))
    assert not order.is_open


@pytest.mark.parametrize("status", [OrderStatus.SHIPPED, OrderStatus.CANCELLED])
def test_a_shipped_or_cancelled_order_cannot_be_cancelled(status: OrderStatus) -> None:
    order = _in(status)

    with pytest.raises(DomainError, match=f"is {status.value}: it cannot be cancelled"):
        order.cancel("again", _at(9))
    assert order.status is status


def test_cancelling_needs_a_reason() -> None:
    with pytest.raises(DomainError, match="needs a reason"):
        _in(OrderStatus.RELEASED).cancel("  ", _at(9))


@pytest.mark.parametrize(
    "status",
    [
        OrderStatus.RECEIVED,
        OrderStatus.RELEASED,
        OrderStatus.IN_PROGRESS,
        OrderStatus.SHIPPED,
        OrderStatus.CANCELLED,
    ],
)
def test_only_a_completed_order_ships(status: OrderStatus) -> None:
    order = _in(status)

    with pytest.raises(DomainError, match=f"is {status.value}: only a completed order ships"):
        order.ship(_at(9))
    assert order.shipped_at is None or status is OrderStatus.SHIPPED


def test_a_cancelled_order_takes_no_more_work() -> None:
    order = _in(OrderStatus.IN_PROGRESS)
    order.cancel("scrapped design", _at(5))

    with pytest.raises(DomainError, match="is cancelled: cannot start an operation"):
        order.start_operation(20, _at(6))
    with pytest.raises(DomainError, match="is cancelled: cannot count parts"):
        order.record_good(10, 1, _at(6))


def test_a_cancelled_order_is_no_longer_assessed() -> None:
    order = _in(OrderStatus.IN_PROGRESS)
    order.cancel("scrapped design", _at(5))
    order.events.clear()

    status = order.assess_schedule(_at(10_000), {}, ScheduleRules())

    assert status is ScheduleStatus.ON_TRACK and order.events == []


# --- quantity changes --------------------------------------------------------------------------


def test_changing_the_quantity_changes_every_operation_and_the_work_content() -> None:
    order = _in(OrderStatus.RELEASED)
    planned = sum(op.planned_s for op in order.operations)

    order.change_quantity(5, _at(2))

    assert order.quantity == 5
    assert [op.quantity for op in order.operations] == [5, 5]
    assert sum(op.planned_s for op in order.operations) == planned + 3 * (30 + 40)


def test_a_received_order_stays_received_when_its_quantity_changes() -> None:
    order = _order()

    order.change_quantity(3, _at(1))

    assert order.status is OrderStatus.RECEIVED
    assert {op.state for op in order.operations} == {OperationState.PENDING}


def test_the_quantity_never_goes_below_what_any_operation_made() -> None:
    order = _order()
    order.release(_at(0))
    order.record_good(10, 4, _at(1))
    order.record_good(20, 6, _at(2))  # the operations overlap: 20 made more than 10

    with pytest.raises(DomainError, match="quantity 5 is below the 6 parts already made"):
        order.change_quantity(5, _at(3))
    assert order.quantity == 10 and order.operations[0].quantity == 10


def test_the_quantity_is_at_least_one() -> None:
    with pytest.raises(DomainError, match="at least 1"):
        _in(OrderStatus.RELEASED).change_quantity(0, _at(1))


def test_lowering_the_quantity_to_what_is_made_completes_the_operation() -> None:
    order = _order()
    order.release(_at(0))
    order.record_good(10, 4, _at(1))

    order.change_quantity(4, _at(2))

    cut, weld = order.operations
    assert (cut.state, cut.completed_at) == (OperationState.COMPLETED, _at(2))
    assert weld.state is OperationState.ACTIVE
    assert order.status is OrderStatus.IN_PROGRESS
    assert events.OperationCompleted("SO-1", 10, _at(2)) in order.events


def test_lowering_the_quantity_to_what_every_operation_made_completes_the_order() -> None:
    order = _order()
    order.release(_at(0))
    order.record_good(10, 4, _at(1))
    order.record_good(20, 4, _at(2))

    order.change_quantity(4, _at(3))

    assert order.status is OrderStatus.COMPLETED and order.completed_at == _at(3)
    assert order.percent == 100.0
    assert events.OrderCompleted("SO-1", _at(3)) in order.events


def test_raising_the_quantity_reopens_a_completed_operation() -> None:
    order = _order(2)
    order.release(_at(0))
    order.record_good(10, 2, _at(1))
    assert order.operations[1].state is OperationState.ACTIVE

    order.change_quantity(5, _at(2))

    cut, weld = order.operations
    assert (cut.state, cut.completed_at, cut.good_qty) == (OperationState.ACTIVE, None, 2)
    assert weld.state is OperationState.PENDING
    assert order.current is cut and order.percent < 100.0


@pytest.mark.parametrize(
    "status", [OrderStatus.COMPLETED, OrderStatus.SHIPPED, OrderStatus.CANCELLED]
)
def test_a_finished_order_keeps_its_quantity(status: OrderStatus) -> None:
    order = _in(status)

    with pytest.raises(DomainError, match=f"is {status.value}: cannot change its quantity"):
        order.change_quantity(5, _at(9))
    assert order.quantity == 2


def test_lifecycle_times_must_be_aware() -> None:
    naive = datetime(2026, 3, 2, 9)  # noqa: DTZ001
    order = _in(OrderStatus.COMPLETED)
    for action in (
        lambda: order.ship(naive),
        lambda: order.cancel("x", naive),
        lambda: _order().change_quantity(3, naive),
        lambda: _order().release(naive),
    ):
        with pytest.raises(DomainError, match="timezone-aware"):
            action()
