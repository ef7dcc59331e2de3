"""The periodic order check on a fake unit of work: news loads the order, the rest is stored."""

from __future__ import annotations

from datetime import timedelta

from tests.clock import T0
from tests.fake_store import order
from tests.fake_unit_of_work import FakeUnitOfWork, with_orders
from tracker.service_layer.alert_handlers import assess_touched_orders
from tracker.service_layer.order_checks import check_open_orders


def _uow() -> FakeUnitOfWork:
    uow = with_orders(order("SO-1", quantity=10))
    assess_touched_orders(uow, T0)
    uow.seen.clear()
    return uow


def test_an_order_with_no_news_only_gets_its_later_eta_stored() -> None:
    uow = _uow()
    before = uow.db.orders["SO-1"].eta
    later = T0 + timedelta(minutes=10)
    assert check_open_orders(uow, later, None) == 0
    assert uow.seen == [] and uow.touched_orders == {"SO-1"}
    assert before is not None and uow.db.orders["SO-1"].eta == before + timedelta(minutes=10)


def test_an_order_that_falls_behind_is_loaded_for_the_domain_to_assess() -> None:
    uow = _uow()
    too_late = T0 + timedelta(days=2)
    assert check_open_orders(uow, too_late, None) == 1
    assert [o.order_id for o in uow.seen] == ["SO-1"] and uow.touched_orders == set()
