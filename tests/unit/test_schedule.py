"""Schedule status of an order: on track, at risk, late, always with reasons (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tracker.domain import events
from tracker.domain.model import Operation, Order
from tracker.domain.schedule import (
    ActiveOperation,
    ScheduleRules,
    ScheduleStatus,
    assess,
    eta_with_plan,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
RULES = ScheduleRules(at_risk_slack_s=600, behind_plan_ratio=0.2)


def _order(due: timedelta, qty: int = 10, cycle_s: float = 60.0) -> Order:
    ops = [
        Operation(10, "cut", "saw-1", 0, cycle_s, qty),
        Operation(20, "weld", "weld-1", 0, cycle_s, qty),
    ]
    order = Order("SO-1", "ACME", "p", qty, T0 + due, ops, created_at=T0)
    order.release(T0)
    return order


def _active(observed: float | None = None, **states: str) -> ActiveOperation:
    return ActiveOperation(10, "cut", 60.0, observed, states)


def test_order_with_room_to_spare_is_on_track_without_reasons() -> None:
    result = assess(T0 + timedelta(hours=1), T0 + timedelta(hours=2), T0, _active(), RULES)
    assert (result.status, result.reasons) == (ScheduleStatus.ON_TRACK, ())


def test_eta_within_the_slack_of_the_due_date_is_at_risk() -> None:
    result = assess(T0 + timedelta(minutes=55), T0 + timedelta(hours=1), T0, _active(), RULES)
    assert result.status is ScheduleStatus.AT_RISK
    assert result.reasons == (
        "projected to finish 2026-03-02 08:55Z, only 5 min before its due date "
        "2026-03-02 09:00Z (slack 10 min)",
    )


def test_order_turns_at_risk_when_its_machine_goes_down() -> None:
    result = assess(T0, T0 + timedelta(hours=2), T0, _active(**{"saw-1": "DOWN"}), RULES)
    assert result.status is ScheduleStatus.AT_RISK
    assert result.reasons == ("machine saw-1 of operation 10 (cut) is DOWN",)


def test_offline_machine_puts_the_order_at_risk_but_idle_does_not() -> None:
    offline = assess(T0, T0 + timedelta(hours=2), T0, _active(**{"saw-1": "OFFLINE"}), RULES)
    idle = assess(T0, T0 + timedelta(hours=2), T0, _active(**{"saw-1": "IDLE"}), RULES)
    assert (offline.status, idle.status) == (ScheduleStatus.AT_RISK, ScheduleStatus.ON_TRACK)


def test_operation_behind_plan_beyond_the_threshold_is_at_risk() -> None:
    within = assess(T0, T0 + timedelta(hours=2), T0, _active(observed=72.0), RULES)
    behind = assess(T0, T0 + timedelta(hours=2), T0, _active(observed=75.0), RULES)
    assert within.status is ScheduleStatus.ON_TRACK
    assert behind.status is ScheduleStatus.AT_RISK
    assert behind.reasons == (
        "operation 10 (cut) runs at 75.0 s/part, 25% over its planned 60.0 s (threshold 20%)",
    )


def test_eta_past_due_is_late_and_keeps_the_risk_reasons() -> None:
    result = assess(
        T0 + timedelta(hours=3), T0 + timedelta(hours=2), T0, _active(**{"saw-1": "DOWN"}), RULES
    )
    assert result.status is ScheduleStatus.LATE
    assert result.reasons == (
        "projected to finish 2026-03-02 11:00Z, 60 min after its due date 2026-03-02 10:00Z",
        "machine saw-1 of operation 10 (cut) is DOWN",
    )


def test_a_passed_due_date_is_late_whatever_the_eta() -> None:
    result = assess(T0, T0 - timedelta(minutes=1), T0, None, RULES)
    assert result.status is ScheduleStatus.LATE
    assert result.reasons[0] == "due date 2026-03-02 07:59Z passed 60 s ago"


def test_assessment_records_one_event_per_change_and_updates_while_it_lasts() -> None:
    order = _order(due=timedelta(hours=3))  # 20 min of work
    order.assess_schedule(T0, {}, RULES)
    assert order.events == [] and order.schedule_status is ScheduleStatus.ON_TRACK

    order.assess_schedule(T0, {"saw-1": "DOWN"}, RULES)
    order.assess_schedule(T0 + timedelta(minutes=1), {"saw-1": "DOWN"}, RULES)
    order.assess_schedule(T0 + timedelta(hours=3), {"saw-1": "DOWN"}, RULES)
    order.assess_schedule(T0 + timedelta(hours=3), {"saw-1": "RUNNING"}, RULES)
    assert [type(e) for e in order.events] == [
        events.OrderFellBehind,
        events.OrderScheduleUpdated,
        events.OrderFellBehind,
        events.OrderScheduleUpdated,
    ]
    assert [e.status for e in order.events] == ["at_risk", "at_risk", "late", "late"]  # type: ignore[union-attr]
    assert order.schedule_reasons == [
        "projected to finish 2026-03-02 11:20Z, 20 min after its due date 2026-03-02 11:00Z"
    ]


def test_order_back_on_track_records_it_once() -> None:
    order = _order(due=timedelta(hours=3))
    order.assess_schedule(T0, {"saw-1": "DOWN"}, RULES)
    order.assess_schedule(T0, {"saw-1": "RUNNING"}, RULES)
    order.assess_schedule(T0, {"saw-1": "RUNNING"}, RULES)
    assert [type(e) for e in order.events] == [events.OrderFellBehind, events.OrderBackOnTrack]
    assert order.schedule_reasons == []


def test_completed_order_keeps_its_final_status_and_records_nothing() -> None:
    order = _order(due=timedelta(minutes=30), qty=1)
    order.record_good(10, 1, T0 + timedelta(minutes=20))
    order.record_good(20, 1, T0 + timedelta(minutes=40))
    order.events.clear()
    order.assess_schedule(T0 + timedelta(hours=5), {}, RULES)
    assert order.events == []
    assert order.schedule_status is ScheduleStatus.LATE
    assert order.schedule_reasons == ["completed 2026-03-02 08:40Z, 10 min after its due date"]


# --- hysteresis: an ETA hovering at the threshold does not flap -----------------------------
HYST = ScheduleRules(at_risk_slack_s=600, behind_plan_ratio=0.2, recovery_margin_s=300)
DUE = T0 + timedelta(hours=1)


def test_an_at_risk_order_needs_the_recovery_margin_to_be_back_on_track() -> None:
    # 12 min of margin: more than the 10 min slack, less than slack + 5 min recovery
    eta = DUE - timedelta(minutes=12)
    fresh = assess(eta, DUE, T0, _active(), HYST)
    held = assess(eta, DUE, T0, _active(), HYST, previous=ScheduleStatus.AT_RISK)

    assert fresh.status is ScheduleStatus.ON_TRACK
    assert held.status is ScheduleStatus.AT_RISK
    assert held.reasons == (
        "projected to finish 2026-03-02 08:48Z, 12 min before its due date 2026-03-02 09:00Z: "
        "not yet back on track (needs 15 min)",
    )
    recovered = assess(DUE - timedelta(minutes=16), DUE, T0, _active(), HYST, ScheduleStatus.LATE)
    assert recovered.status is ScheduleStatus.ON_TRACK


def test_a_slow_operation_recovers_only_below_half_the_behind_plan_ratio() -> None:
    early = DUE - timedelta(hours=3)  # plenty of margin: only the cycle time matters
    at_15_percent = _active(observed=69.0)  # planned 60 s; threshold 20%, recovery below 10%

    assert assess(early, DUE, T0, at_15_percent, HYST).status is ScheduleStatus.ON_TRACK
    held = assess(early, DUE, T0, at_15_percent, HYST, previous=ScheduleStatus.AT_RISK)
    assert held.status is ScheduleStatus.AT_RISK
    assert "(threshold 10%)" in held.reasons[0]
    faster = assess(early, DUE, T0, _active(observed=65.0), HYST, ScheduleStatus.AT_RISK)
    assert faster.status is ScheduleStatus.ON_TRACK


def test_the_eta_is_the_later_of_the_projection_and_the_plan() -> None:
    soon, later = T0 + timedelta(hours=1), T0 + timedelta(hours=2)
    assert eta_with_plan(soon, later) == later  # queued behind others: the plan says later
    assert eta_with_plan(later, soon) == later  # the plan is older than the work left
    assert eta_with_plan(soon, None) == soon  # not planned yet
