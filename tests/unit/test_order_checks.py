"""The periodic order check on a fake unit of work: news loads the order, the rest is stored."""

from __future__ import annotations

import copy
from datetime import timedelta

from tests.clock import T0
from tests.fake_store import order
from tests.fake_unit_of_work import FakeUnitOfWork, with_orders
from tracker.domain.alerts import AlertPolicy
from tracker.domain.schedule import AtRiskRule, OnTimeOdds, ScheduleRules, ScheduleStatus
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


def test_the_row_path_and_the_domain_agree_under_the_p_on_time_rule() -> None:
    rules = ScheduleRules(at_risk_rule=AtRiskRule.P_ON_TIME)
    # A stays on track; B stays at risk, its reason now says what it needs; C and E fall
    # behind; D is back on track; F gets its first forecast; G falls further (no news)
    before = {"A": 0.9, "B": 0.4, "C": 0.6, "D": 0.4, "E": 0.9, "F": None, "G": 0.45}
    after = {"A": 0.9, "B": 0.6, "C": 0.4, "D": 0.8, "E": 0.3, "F": 0.3, "G": 0.2}
    uow = with_orders(*(order(o, quantity=10) for o in before), policy=AlertPolicy(rules))
    uow.odds = {o: OnTimeOdds(p, "saw-1 fails") for o, p in before.items() if p is not None}
    assess_touched_orders(uow, T0)
    uow.seen.clear()
    odds = {o: OnTimeOdds(p, "saw-1 fails") for o, p in after.items()}
    uow.odds = odds
    domain = copy.deepcopy(uow.db.orders)
    later = T0 + timedelta(seconds=30)  # ETAs move less than a minute: no news of their own
    for o in domain.values():
        o.events.clear()
        o.assess_schedule(later, {}, rules, None, odds[o.order_id])
    check_open_orders(uow, later, None)
    loaded = {o.order_id for o in uow.seen}
    assert loaded == {o for o, d in domain.items() if d.events} == {"B", "C", "D", "E", "F"}
    assess_touched_orders(uow, later)
    said = {o: (x.schedule_status, x.schedule_reasons) for o, x in uow.db.orders.items()}
    assert said == {o: (d.schedule_status, d.schedule_reasons) for o, d in domain.items()}
    assert said["B"][0] is ScheduleStatus.AT_RISK and said["D"][0] is ScheduleStatus.ON_TRACK
