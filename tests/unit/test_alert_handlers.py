"""The alert lifecycle on a fake unit of work: raise, outbox rows, clear, acknowledge, checks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.clock import T0
from tests.fake_store import order
from tests.fake_unit_of_work import FakeUnitOfWork, with_orders
from tracker.domain import commands, events
from tracker.domain.alerts import LATE_ORDER, AlertPolicy
from tracker.domain.schedule import ScheduleStatus
from tracker.service_layer import alert_handlers

DUE = T0 + timedelta(hours=1)
HOOK = "https://erp.example/hooks/alerts"


@pytest.fixture
def uow() -> FakeUnitOfWork:
    policy = AlertPolicy(webhook_urls=(HOOK,))
    return with_orders(order("SO-1", quantity=100, due_at=DUE, cycle_s=60), policy=policy)


def _behind(status: ScheduleStatus = ScheduleStatus.LATE) -> events.OrderFellBehind:
    eta = DUE + timedelta(hours=1)
    return events.OrderFellBehind("SO-1", status.value, eta, DUE, ("too slow",), T0)


def test_falling_behind_raises_one_alert_with_a_delivery_per_channel(uow: FakeUnitOfWork) -> None:
    alert_handlers.reconcile_alert(_behind(), uow, T0)
    alert_handlers.reconcile_alert(_behind(), uow, T0)  # the same news again: no second alert
    (alert,) = uow.db.alerts
    assert alert.schedule_status is ScheduleStatus.LATE
    assert sorted((d["channel"], d["target"]) for d in uow.db.deliveries) == [
        ("mqtt", ""),
        ("webhook", HOOK),
    ]


def test_back_on_track_clears_the_open_alert(uow: FakeUnitOfWork) -> None:
    alert_handlers.reconcile_alert(_behind(), uow, T0)
    back = events.OrderBackOnTrack("SO-1", "on_track", DUE, DUE, (), T0)
    alert_handlers.reconcile_alert(back, uow, T0 + timedelta(minutes=5))
    assert uow.db.alerts[0].state == "cleared"
    assert uow.active_alert("SO-1", LATE_ORDER) is None


def test_acknowledging_an_unknown_or_cleared_alert_is_refused(uow: FakeUnitOfWork) -> None:
    with pytest.raises(alert_handlers.AlertNotFound):
        alert_handlers.acknowledge_alert(commands.AcknowledgeAlert(7, "ann"), uow, T0)
    alert_handlers.reconcile_alert(_behind(), uow, T0)
    cancelled = events.OrderCancelled("SO-1", "customer asked", T0)
    alert_handlers.clear_on_cancellation(cancelled, uow, T0)
    with pytest.raises(alert_handlers.AlertClosed):
        alert_handlers.acknowledge_alert(commands.AcknowledgeAlert(1, "ann"), uow, T0)


def test_the_periodic_check_loads_only_the_orders_with_news(uow: FakeUnitOfWork) -> None:
    uow.seen.clear()
    # 100 parts at a minute each cannot make the due date an hour away: news
    alert_handlers.check_orders(commands.CheckOrders(), uow, T0)
    assert [o.order_id for o in uow.seen] == ["SO-1"]
    alert_handlers.assess_touched_orders(uow, T0)
    uow.seen.clear()
    alert_handlers.check_orders(commands.CheckOrders(), uow, T0)
    assert uow.seen == []  # assessed already: nothing new
