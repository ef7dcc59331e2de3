"""The tracker's bus and unit of work on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from tests.clock import T0, Clock
from tracker.adapters.database import read_session_factory, session_factory
from tracker.adapters.unit_of_work import SqlUnitOfWork
from tracker.domain import commands
from tracker.domain.model import OperationState, OrderStatus, ScheduleStatus
from tracker.service_layer.bus import MessageBus
from tracker.service_layer.handlers import OrderExists
from tracker.views.alerts import alerts

pytestmark = pytest.mark.integration


def _order(
    order_id: str = "SO-1", qty: int = 3, due: timedelta = timedelta(hours=8), cycle_s: float = 60.0
) -> commands.CreateOrder:
    return commands.CreateOrder(
        order_id=order_id,
        customer="ACME",
        product="bracket",
        quantity=qty,
        due_at=T0 + due,
        token_hash="a" * 64,
        operations=(
            commands.OperationSpec(10, "cut", "saw-1", 300, cycle_s),
            commands.OperationSpec(20, "weld", "weld-1", 120, cycle_s),
        ),
    )


def _load(bus: MessageBus, order_id: str = "SO-1"):  # type: ignore[no-untyped-def]
    with SqlUnitOfWork(bus.units.sessions) as uow:
        order = uow.get_order(order_id)
        assert order is not None
        return order


def test_order_round_trips_with_aware_times_and_first_operation_active(bus: MessageBus) -> None:
    bus.handle(_order())
    order = _load(bus)
    assert order.due_at == T0 + timedelta(hours=8) and order.due_at.tzinfo is not None
    assert order.status is OrderStatus.RELEASED
    assert [op.state for op in order.operations] == [OperationState.ACTIVE, OperationState.PENDING]


def test_duplicate_order_id_is_refused(bus: MessageBus) -> None:
    bus.handle(_order())
    with pytest.raises(OrderExists):
        bus.handle(_order())


def test_cycles_complete_operations_in_routing_order(bus: MessageBus, clock: Clock) -> None:
    bus.handle(_order(qty=2))
    bus.handle(commands.StartJob("saw-1", "e1", "SO-1", 10, T0))
    for i, counter in enumerate([100, 101, 102], start=2):
        bus.handle(commands.RecordCycle("saw-1", f"e{i}", counter, T0 + timedelta(minutes=i)))
    order = _load(bus)
    cut, weld = order.operations
    assert cut.state is OperationState.COMPLETED and cut.good_qty == 2
    assert weld.state is OperationState.ACTIVE
    bus.handle(commands.StartJob("weld-1", "w1", "SO-1", 20, T0))
    bus.handle(commands.RecordCycle("weld-1", "w2", 7, T0, order_id="SO-1", seq=20))
    bus.handle(commands.RecordCycle("weld-1", "w3", 8, T0, order_id="SO-1", seq=20))
    order = _load(bus)
    assert order.status is OrderStatus.COMPLETED and order.percent == 100.0


def test_redelivered_and_stale_cycle_events_do_not_count_twice(bus: MessageBus) -> None:
    bus.handle(_order(qty=10))
    bus.handle(commands.StartJob("saw-1", "e1", "SO-1", 10, T0))
    cycle = commands.RecordCycle("saw-1", "e2", 500, T0)
    assert bus.handle(cycle) is True
    assert bus.handle(cycle) is False  # same event id: a redelivery
    bus.handle(commands.RecordCycle("saw-1", "e3", 503, T0 + timedelta(minutes=3)))
    bus.handle(commands.RecordCycle("saw-1", "e4", 502, T0 + timedelta(minutes=2)))  # stale
    assert _load(bus).operations[0].good_qty == 4  # first cycle + 3


def test_late_order_raises_one_alert_across_repeated_checks(bus: MessageBus, clock: Clock) -> None:
    bus.handle(_order(qty=5, due=timedelta(hours=1), cycle_s=600))  # 2 x (5 x 10 min) > 1 h
    for minutes in (1, 2, 3):
        clock.now = T0 + timedelta(minutes=minutes)
        bus.handle(commands.CheckOrders())
    order = _load(bus)
    assert order.schedule_status is ScheduleStatus.LATE
    with SqlUnitOfWork(bus.units.sessions) as uow:
        raised = alerts(uow.session)
        assert [(a["order_id"], a["kind"], a["state"], a["severity"]) for a in raised] == [
            ("SO-1", "late", "active", "critical")
        ]
        assert [d["version"] for d in raised[0]["deliveries"]] == [1]
        assert raised[0]["due_at"] == T0 + timedelta(hours=1)


def test_on_time_order_raises_no_alert(bus: MessageBus, clock: Clock) -> None:
    bus.handle(_order())
    clock.now = T0 + timedelta(minutes=5)
    bus.handle(commands.CheckOrders())
    with SqlUnitOfWork(bus.units.sessions) as uow:
        assert alerts(uow.session) == []
        assert uow.open_order_ids() == ["SO-1"]


def test_delivered_alert_is_not_delivered_again(bus: MessageBus, clock: Clock) -> None:
    bus.handle(_order(qty=5, due=timedelta(minutes=1), cycle_s=600))
    with SqlUnitOfWork(bus.units.sessions) as uow:
        (pending,) = uow.pending_deliveries("mqtt", T0)
        uow.delivery_done(pending.id, T0)
        uow.commit()
    with SqlUnitOfWork(bus.units.sessions) as uow:
        assert uow.pending_deliveries("mqtt", T0) == []


def test_a_read_session_does_not_wait_for_the_writer(engine: Engine) -> None:
    """On SQLite a read takes no write lock (plain BEGIN under WAL); a writer blocks nobody."""
    writer = session_factory(engine)()
    writer.execute(text("UPDATE machines SET state = state"))  # holds the write lock
    try:
        reader = read_session_factory(engine)()
        t0 = time.monotonic()
        assert reader.execute(text("SELECT count(*) FROM orders")).scalar() == 0
        assert time.monotonic() - t0 < 1.0
        reader.close()
    finally:
        writer.rollback()
        writer.close()
