"""Order handlers on a fake unit of work: create, import, cancel, ship, change quantity."""

from __future__ import annotations

import pytest

from tests.clock import T0
from tests.fake_store import order
from tests.fake_unit_of_work import FakeUnitOfWork, with_orders
from tracker.domain import commands
from tracker.domain.model import OrderStatus
from tracker.service_layer import handlers


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return with_orders()


def test_a_new_order_is_released_and_a_second_one_with_its_id_is_refused(
    uow: FakeUnitOfWork,
) -> None:
    handlers.create_order(order("SO-1"), uow, T0)
    assert uow.db.orders["SO-1"].status is OrderStatus.RELEASED
    with pytest.raises(handlers.OrderExists):
        handlers.create_order(order("SO-1"), uow, T0)


def test_one_bad_row_rejects_the_whole_import(uow: FakeUnitOfWork) -> None:
    handlers.create_order(order("SO-1"), uow, T0)
    rows = ((2, order("SO-2")), (3, order("SO-1")), (4, order("SO-2")))
    with pytest.raises(handlers.ImportRejected) as rejected:
        handlers.import_orders(commands.ImportOrders(rows), uow, T0)
    assert [p.row for p in rejected.value.problems] == [3, 4]
    assert sorted(uow.db.orders) == ["SO-1"]


def test_a_dry_run_import_checks_every_row_and_adds_none(uow: FakeUnitOfWork) -> None:
    handlers.create_order(order("SO-1"), uow, T0)
    with pytest.raises(handlers.ImportRejected) as rejected:
        handlers.import_orders(commands.ImportOrders(((2, order("SO-1")),), dry_run=True), uow, T0)
    assert [p.row for p in rejected.value.problems] == [2]
    handlers.import_orders(commands.ImportOrders(((2, order("SO-2")),), dry_run=True), uow, T0)
    assert sorted(uow.db.orders) == ["SO-1"]


def test_cancelling_an_unknown_order_is_refused_and_a_known_one_records_it(
    uow: FakeUnitOfWork,
) -> None:
    with pytest.raises(handlers.OrderNotFound):
        handlers.cancel_order(commands.CancelOrder("SO-9", "no"), uow, T0)
    handlers.create_order(order("SO-1"), uow, T0)
    handlers.cancel_order(commands.CancelOrder("SO-1", "customer asked"), uow, T0)
    assert uow.db.orders["SO-1"].status is OrderStatus.CANCELLED


def test_a_changed_quantity_is_stored_on_the_order(uow: FakeUnitOfWork) -> None:
    handlers.create_order(order("SO-1"), uow, T0)
    handlers.change_quantity(commands.ChangeQuantity("SO-1", 5), uow, T0)
    assert uow.db.orders["SO-1"].quantity == 5
