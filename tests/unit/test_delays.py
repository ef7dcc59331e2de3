"""A delay in customer words and the ETA range (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tracker.domain.delays import delay_of, eta_range
from tracker.domain.model import Operation, Order
from tracker.domain.schedule import ScheduleStatus

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _order(status: ScheduleStatus = ScheduleStatus.AT_RISK, started: bool = False) -> Order:
    ops = [
        Operation(10, "weld", "weld-1", 0, 60.0, 10),
        Operation(20, "paint", "paint-1", 0, 60, 10),
    ]
    order = Order("SO-1", "ACME", "bracket", 10, T0 + 2 * H, ops, created_at=T0)
    order.release(T0)
    if started:
        ops[0].started_at = T0
    order.schedule_status = status
    return order


def _kind(order: Order, states: dict[str, str], start: datetime | None = None) -> str | None:
    delay = delay_of(order, T0, T0 + H, states, start)
    return delay.kind if delay else None


def test_the_first_cause_that_applies_is_told_without_machine_names() -> None:
    order = _order(started=True)
    assert _kind(order, {"weld-1": "DOWN", "weld-2": "OFFLINE"}) == "breakdown"
    assert _kind(order, {"weld-1": "OFFLINE"}) == "interruption"
    order.operations[0].observed_cycle_s = 75.0
    assert _kind(order, {"weld-1": "RUNNING"}) == "slow"
    waiting = _order()
    assert _kind(waiting, {}, start=T0 + H) == "capacity"
    assert _kind(waiting, {}, start=T0) == "behind"
    delay = delay_of(order, T0, T0 + H, {"weld-1": "DOWN"}, None)
    assert delay is not None and "weld" not in delay.text


def test_no_delay_on_track_and_on_time_or_once_done() -> None:
    assert _kind(_order(ScheduleStatus.ON_TRACK), {"weld-1": "DOWN"}) is None
    late_eta = delay_of(_order(ScheduleStatus.ON_TRACK), T0, T0 + 3 * H, {}, None)
    assert late_eta is not None and late_eta.kind == "behind"


def test_the_range_spans_plan_and_projection_and_a_repair_as_long_again() -> None:
    assert eta_range(T0, T0 + H, T0 + H, False, 1800) is None
    # under a tenth of the time to the ETA: no range
    assert eta_range(T0, T0 + H, T0 + H + timedelta(minutes=5), False, 1800) is None
    assert eta_range(T0, T0 + H, T0 + 2 * H, False, 1800) == (T0 + H, T0 + 2 * H)
    assert eta_range(T0, T0 + 2 * H, T0 + H, False, 1800) == (T0 + H, T0 + 2 * H)
    assert eta_range(T0, T0 + H, None, True, 1800) == (T0 + H, T0 + H + timedelta(seconds=1800))
