"""The p_on_time at-risk rule live, on real SQLite and PostgreSQL databases: an order's status
and alert follow its forecast P(on time), with hysteresis, through the bus and the tracker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.clock import T0, Clock
from tests.fake_store import order
from tests.waiting import wait_for
from tracker.adapters.database import session_factory
from tracker.adapters.unit_of_work import SqlUnitOfWork, SqlUnits
from tracker.bootstrap import Tracker
from tracker.domain import commands
from tracker.domain.alerts import AlertPolicy
from tracker.domain.schedule import AtRiskRule, OnTimeOdds, ScheduleRules
from tracker.service_layer.bus import MessageBus
from tracker.views.alerts import alerts

pytestmark = pytest.mark.integration

WELD = "weld-1 fails about every 6.0 h and adds about 2.5 h to this order"
RULES = ScheduleRules(at_risk_rule=AtRiskRule.P_ON_TIME, at_risk_below=0.5, back_on_track_above=0.7)


def _create(bus: MessageBus) -> None:
    """11 min of work on saw-1, due in 2 h: on track by the rules."""
    bus.handle(order("SO-1", quantity=10, due_at=T0 + timedelta(hours=2), cycle_s=60.0))


def _status(bus: MessageBus) -> tuple[str, list[str]]:
    with SqlUnitOfWork(bus.units.sessions) as uow:
        order = uow.get_order("SO-1")
        assert order is not None
        return order.schedule_status.value, list(order.schedule_reasons)


def _alerts(bus: MessageBus) -> list[dict[str, Any]]:
    with SqlUnitOfWork(bus.units.sessions) as uow:
        return alerts(uow.session)


def test_an_order_turns_at_risk_below_the_threshold_and_recovers_only_above_the_other(
    engine: Engine, clock: Clock
) -> None:
    odds: dict[str, OnTimeOdds] = {}
    bus = MessageBus(
        SqlUnits(session_factory(engine)), clock, policy=AlertPolicy(RULES), odds=lambda: odds
    )
    _create(bus)
    bus.handle(commands.StartJob("saw-1", "j1", "SO-1", 10, T0))
    odds["SO-1"] = OnTimeOdds(0.9, None)
    clock.now = T0 + timedelta(minutes=1)
    # a machine down does not decide: the forecast weighs its repair (the next one will)
    bus.handle(commands.SetMachineState("saw-1", "s1", "DOWN", clock.now))
    assert _status(bus) == ("on_track", []) and _alerts(bus) == []

    odds["SO-1"] = OnTimeOdds(0.42, WELD)  # a refresh; the periodic check sees it
    bus.handle(commands.CheckOrders())
    assert _status(bus) == ("at_risk", [f"P(on time) 42%: {WELD}"])
    [raised] = _alerts(bus)
    assert (raised["state"], raised["schedule_status"]) == ("active", "at_risk")
    assert raised["message"] == f"order SO-1 is at risk: P(on time) 42%: {WELD}"

    odds["SO-1"] = OnTimeOdds(0.6, WELD)  # above 0.5, under 0.7: still at risk
    bus.handle(commands.CheckOrders())
    assert _status(bus) == (
        "at_risk",
        [f"P(on time) 60%, not yet back on track (needs 70%): {WELD}"],
    )
    [still] = _alerts(bus)
    assert (still["id"], still["state"], still["version"]) == (raised["id"], "active", 1)

    odds["SO-1"] = OnTimeOdds(0.75, WELD)
    bus.handle(commands.CheckOrders())
    assert _status(bus) == ("on_track", [])
    [cleared] = _alerts(bus)
    assert (cleared["id"], cleared["state"]) == (raised["id"], "cleared")


def test_the_tracker_assesses_each_plan_against_its_fresh_forecast(
    make_tracker: Callable[..., Tracker], clock: Clock
) -> None:
    # a machine that fails every minute for a day: the forecast gives the order no chance,
    # while by the rules (11 min of work, due in 2 h) it is on track
    tracker = make_tracker(
        "an-api-key-for-p-on-time",
        clock,
        at_risk_rule="p_on_time",
        foresight_mtbf_s=60.0,
        foresight_mttr_s=86400.0,
        foresight_samples=50,
    )
    tracker.leadership.start()  # the leader checks the orders after each plan
    try:
        wait_for(tracker.leadership.is_leader, "the lone instance to lead")
        _create(tracker.bus)
        assert _status(tracker.bus) == ("on_track", [])
        tracker.planner.replan()  # plan, forecast, then check: no machine event needed
        status, reasons = _status(tracker.bus)
        assert status == "at_risk"
        assert reasons[0].startswith("P(on time) 0%: ") and "fails about every 1 min" in reasons[0]
        [alert] = _alerts(tracker.bus)
        assert alert["schedule_status"] == "at_risk"
    finally:
        tracker.leadership.stop()
        tracker.engine.dispose()
