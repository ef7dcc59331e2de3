"""The p_on_time at-risk rule: P(on time) against its thresholds, with hysteresis (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tracker.domain import events
from tracker.domain.model import Operation, Order
from tracker.domain.schedule import (
    ActiveOperation,
    AtRiskRule,
    OnTimeOdds,
    ScheduleRules,
    ScheduleStatus,
    assess,
    percent,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DUE = T0 + timedelta(hours=4)
P_RULE = ScheduleRules(at_risk_slack_s=3600, at_risk_rule=AtRiskRule.P_ON_TIME)
WELD = "weld-1 fails about every 6.0 h and adds about 2.5 h to this order"
ON, RISK, LATE = ScheduleStatus.ON_TRACK, ScheduleStatus.AT_RISK, ScheduleStatus.LATE


def _active(**states: str) -> ActiveOperation:
    return ActiveOperation(10, "cut", 60.0, None, states)


def _p(
    p: float | None,
    previous: ScheduleStatus = ON,
    eta: datetime = T0 + timedelta(hours=1),
    active: ActiveOperation | None = None,
    rules: ScheduleRules = P_RULE,
) -> tuple[ScheduleStatus, tuple[str, ...]]:
    odds = OnTimeOdds(p, WELD) if p is not None else None
    result = assess(eta, DUE, T0, active or _active(), rules, previous, odds)
    return result.status, result.reasons


def test_an_order_is_at_risk_below_the_threshold_with_the_forecasts_reason() -> None:
    assert _p(0.42) == (RISK, (f"P(on time) 42%: {WELD}",))
    assert _p(0.5) == (ON, ())


@pytest.mark.parametrize(
    ("p", "previous", "status"),
    [
        (0.6, RISK, RISK),  # between the thresholds: stays at risk
        (0.6, LATE, RISK),  # an ETA back before due, P still under the recovery threshold
        (0.6, ON, ON),  # between the thresholds: stays on track
        (0.7, RISK, ON),  # at the recovery threshold: back on track
        (0.49, ON, RISK),
    ],
)
def test_back_on_track_only_at_the_recovery_threshold(
    p: float, previous: ScheduleStatus, status: ScheduleStatus
) -> None:
    assert _p(p, previous)[0] is status


def test_the_reason_of_an_order_not_yet_back_on_track_says_what_it_needs() -> None:
    assert _p(0.62, RISK)[1] == (f"P(on time) 62%, not yet back on track (needs 70%): {WELD}",)


def test_a_forecast_without_a_dominant_machine_says_only_the_probability() -> None:
    result = assess(T0, DUE, T0, _active(), P_RULE, ON, OnTimeOdds(0.3))
    assert result.reasons == ("P(on time) 30%",)


def test_a_machine_down_or_an_eta_near_due_do_not_decide_when_there_is_a_forecast() -> None:
    # the forecast weighs the repair against the slack; the rules would say at risk twice
    near_due = DUE - timedelta(minutes=10)
    assert _p(0.9, eta=near_due, active=_active(**{"cut-1": "DOWN"})) == (ON, ())
    assert _p(0.9, eta=near_due, rules=ScheduleRules(at_risk_slack_s=3600))[0] is RISK


def test_without_a_forecast_the_rules_decide() -> None:
    status, reasons = _p(None, active=_active(**{"saw-1": "DOWN"}))
    assert (status, reasons) == (RISK, ("machine saw-1 of operation 10 (cut) is DOWN",))


def test_late_stays_the_etas_word_and_carries_the_probability_too() -> None:
    status, reasons = _p(0.1, eta=DUE + timedelta(minutes=30))
    assert status is LATE
    assert reasons[0].startswith("projected to finish 2026-03-02 12:30Z, 30 min after")
    assert reasons[1] == f"P(on time) 10%: {WELD}"
    assert _p(0.95, eta=DUE + timedelta(minutes=30))[0] is LATE


def test_the_rules_setting_ignores_the_forecast() -> None:
    assert _p(0.1, rules=ScheduleRules(at_risk_slack_s=3600)) == (ON, ())


def test_percent_rounds_down_so_a_probability_never_reads_as_its_threshold() -> None:
    said = [percent(p) for p in (0.499, 0.289, 0.29, 0.7, 1.0)]
    assert said == ["49%", "28%", "29%", "70%", "100%"]


def test_the_domain_records_one_fall_and_one_recovery_across_the_band() -> None:
    # 0.45 -> 0.65 is news for the open alert (its reason now says what it needs), no more
    order = Order("SO-1", "ACME", "p", 10, DUE, [Operation(10, "cut", "saw-1", 0, 60, 10)], T0)
    order.release(T0)
    steps = [0.9, 0.4, 0.45, 0.65, 0.75, 0.6]
    for p in steps:
        order.assess_schedule(T0, {}, P_RULE, odds=OnTimeOdds(p, WELD))
    kinds = [type(e).__name__ for e in order.events]
    assert kinds == ["OrderFellBehind", "OrderScheduleUpdated", "OrderBackOnTrack"]
    fell = order.events[0]
    assert isinstance(fell, events.OrderFellBehind)
    assert fell.reasons == (f"P(on time) 40%: {WELD}",)
    assert order.schedule_status is ON
